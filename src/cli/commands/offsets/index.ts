import { Args, Flags } from '@oclif/core';
import { LabCommand, table } from '../../base';
import { labKafka } from '../../../lib/kafka';
import { topicOffsets } from '../../../lib/offsets';
import { sleep } from '../../../lib/wait';
import { prometheusClient } from '../../../runtime/stack';

export default class Offsets extends LabCommand {
  static override summary =
    "Per partition: log start, LSO, HW, and each replica's LEO; with --group, the group's committed offset and lag.";
  static override description =
    'LSO comes from a READ_COMMITTED ListOffsets, HW from a READ_UNCOMMITTED one (they differ while a transaction is open); ' +
    "replica LEOs are the brokers' kafka_log_log_logendoffset from Prometheus (scraped every 2 s).";
  static override examples = [
    '<%= config.bin %> offsets lab.products',
    '<%= config.bin %> offsets lab.products --group lab-consumer --watch',
  ];
  static override args = { topic: Args.string({ required: true }) };
  static override flags = {
    group: Flags.string({ description: 'consumer group whose committed offsets and lag to show' }),
    watch: Flags.boolean({ description: 'refresh every second until Ctrl-C' }),
  };

  async run() {
    const { args, flags } = await this.parse(Offsets);
    const kafka = labKafka(this.lab, 'lab-offsets');
    for (;;) {
      const parts = await topicOffsets(kafka, args.topic);
      const leo = await prometheusClient(this.lab)
        .query(`kafka_log_log_logendoffset{topic="${args.topic}"}`)
        .catch(() => []);
      for (const s of leo) {
        const p = parts.find((x) => String(x.partition) === s.metric.partition);
        if (p) p.replicaLeo[`b${s.metric.broker}`] = s.value;
      }
      let committed = new Map<number, number>();
      if (flags.group) {
        const admin = kafka.admin();
        await admin.connect();
        const res = await admin.fetchOffsets({ groupId: flags.group, topics: [args.topic] });
        await admin.disconnect();
        committed = new Map(res[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
      }
      const rows = parts.map((p) => ({
        partition: p.partition,
        leader: p.leader,
        isr: p.isr.join(','),
        logStart: String(p.logStart),
        lso: String(p.lso),
        hw: String(p.hw),
        replicaLeo:
          Object.entries(p.replicaLeo)
            .sort()
            .map(([b, v]) => `${b}=${v}`)
            .join(' ') || 'n/a',
        ...(flags.group
          ? {
              committed: committed.get(p.partition) ?? -1,
              lag: Number(p.lso) - Math.max(0, committed.get(p.partition) ?? 0),
            }
          : {}),
      }));
      if (this.jsonEnabled()) return rows;
      if (flags.watch) process.stdout.write('\x1b[2J\x1b[H');
      this.log(`${args.topic} @ ${new Date().toISOString()}\n${table(rows)}`);
      if (!flags.watch) return rows;
      await sleep(1000);
    }
  }
}
