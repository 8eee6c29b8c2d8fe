import type { Kafka } from 'kafkajs';
import { gauge } from '../../lib/metrics';
import type { ServiceContext } from '../common/app';
import type { ConsumerConfig } from './config';

/**
 * The group's lag as a gauge, so Prometheus can draw it over time: log-end offset (LSO: kafkajs asks
 * READ_COMMITTED) minus the committed offset, summed over partitions, read with an admin client every second.
 * It is measured from the broker's offsets, not from what this process believes, and it keeps moving while
 * eachMessage is stuck in retries — exactly when it matters.
 */
export function groupLag(
  cfg: ConsumerConfig,
  ctx: ServiceContext,
  kafka: Kafka,
  intervalMs = 1000,
) {
  const g = gauge(
    ctx.registry,
    'lab_consumer_lag_messages',
    "This group's lag on its topic (log-end minus committed offset, summed over partitions), refreshed every second",
    ['mode'],
  );
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  let busy = false;

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(cfg.topic),
        admin.fetchOffsets({ groupId: cfg.group, topics: [cfg.topic] }),
      ]);
      const done = new Map(
        committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? [],
      );
      g.set(
        { mode: cfg.mode },
        ends.reduce(
          (a, p) => a + Math.max(0, Number(p.high) - Math.max(0, done.get(p.partition) ?? 0)),
          0,
        ),
      );
    } catch (e) {
      ctx.log.debug({ err: (e as Error).message }, 'lag refresh failed; keeping the last value');
    } finally {
      busy = false;
    }
  }

  return {
    async start() {
      await admin.connect();
      await refresh();
      timer = setInterval(() => void refresh(), intervalMs);
    },
    async stop() {
      clearInterval(timer);
      await admin.disconnect();
    },
  };
}
