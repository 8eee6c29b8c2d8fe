import { Counter, Gauge, Registry } from 'prom-client';
import type { Snapshot } from './collector';

/**
 * The exporter's series (METRICS.md, "kafka-offsets-exporter"). Offsets are gauges set from the snapshot taken for
 * this very scrape; they are cleared first, so a deleted topic's series disappear instead of freezing.
 */
export function offsetMetrics() {
  const registry = new Registry();
  const labels = ['topic', 'partition'];
  const m = {
    registry,
    hw: new Gauge({
      name: 'lab_kafka_partition_hw',
      help: 'High watermark: offset after the last record replicated to the ISR; read_uncommitted consumers read up to here',
      labelNames: labels,
      registers: [registry],
    }),
    lso: new Gauge({
      name: 'lab_kafka_partition_lso',
      help: 'Last stable offset: first offset of the oldest open transaction (= HW when none); read_committed consumers read up to here',
      labelNames: labels,
      registers: [registry],
    }),
    logStart: new Gauge({
      name: 'lab_kafka_partition_log_start_offset',
      help: 'First offset still in the log (retention, deleteRecords)',
      labelNames: labels,
      registers: [registry],
    }),
    up: new Gauge({
      name: 'lab_kafka_offsets_up',
      help: "1 if this scrape read every exported topic's offsets in time, 0 if it failed or timed out (offsets then absent)",
      registers: [registry],
    }),
    topics: new Gauge({
      name: 'lab_kafka_offsets_topics',
      help: 'Topics exported by this scrape',
      registers: [registry],
    }),
    dropped: new Gauge({
      name: 'lab_kafka_offsets_topics_dropped',
      help: 'Lab topics not exported because of LAB_KAFKA_OFFSETS_MAX_TOPICS',
      registers: [registry],
    }),
    duration: new Gauge({
      name: 'lab_kafka_offsets_collect_duration_seconds',
      help: 'Time this scrape spent reading offsets from the brokers',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'lab_kafka_offsets_collect_errors_total',
      help: 'Scrapes whose offsets could not be read',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
  return {
    ...m,
    /** Sets every series from one snapshot (or from a failure) and returns the text exposition. */
    async render(read: () => Promise<Snapshot>): Promise<string> {
      const t0 = process.hrtime.bigint();
      for (const g of [m.hw, m.lso, m.logStart]) g.reset();
      try {
        const snap = await read();
        for (const p of snap.partitions) {
          const l = { topic: p.topic, partition: String(p.partition) };
          m.hw.set(l, Number(p.hw));
          m.lso.set(l, Number(p.lso));
          m.logStart.set(l, Number(p.logStart));
        }
        m.topics.set(new Set(snap.partitions.map((p) => p.topic)).size);
        m.dropped.set(snap.dropped);
        m.up.set(1);
      } catch (e) {
        m.errors.inc({ reason: (e as Error).name === 'CollectTimeoutError' ? 'timeout' : 'error' });
        m.up.set(0);
      }
      m.duration.set(Number(process.hrtime.bigint() - t0) / 1e9);
      return registry.metrics();
    },
  };
}
