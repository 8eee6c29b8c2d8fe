import { Flags } from '@oclif/core';
import { LabCommand, table } from '../base';
import { DEFAULT_TOPIC } from '../../lib/events';
import { replayDlq } from '../../services/replay-worker/replay';

export default class Replay extends LabCommand {
  static override summary =
    'Replay <topic>.DLQ to its original topic, keeping each event id (dedup_key). Dry run first.';
  static override examples = [
    '<%= config.bin %> replay --dry-run',
    '<%= config.bin %> replay --topic lab.products --from-offset 10 --max-rate 50',
  ];
  static override flags = {
    topic: Flags.string({
      description: 'original topic (its DLQ is <topic>.DLQ)',
      default: DEFAULT_TOPIC,
    }),
    'dry-run': Flags.boolean({ description: 'list what would be replayed, publish nothing' }),
    partition: Flags.integer({ description: 'only this DLQ partition' }),
    'from-offset': Flags.integer(),
    'to-offset': Flags.integer(),
    'from-timestamp': Flags.string({ description: 'epoch ms or ISO date' }),
    'to-timestamp': Flags.string({ description: 'epoch ms or ISO date' }),
    'max-rate': Flags.integer({ description: 'messages per second (0 = unlimited)', default: 100 }),
  };

  async run() {
    const { flags } = await this.parse(Replay);
    const r = await replayDlq(this.lab, {
      topic: flags.topic,
      dryRun: flags['dry-run'],
      partition: flags.partition,
      fromOffset: flags['from-offset'],
      toOffset: flags['to-offset'],
      fromTimestamp: flags['from-timestamp'],
      toTimestamp: flags['to-timestamp'],
      maxRate: flags['max-rate'],
    });
    if (!this.jsonEnabled()) {
      this.log(table(r.items.map((i) => ({ ...i }))));
      this.log(
        `\n${r.dryRun ? 'dry run: would replay' : 'replayed'} ${r.dryRun ? r.selected : r.replayed} of ${r.inDlq} records in ${r.dlqTopic}`,
      );
    }
    return r;
  }
}
