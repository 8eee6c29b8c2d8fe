import type { Admin } from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import type { LabConfig } from '../../../lib/config';
import { labKafka } from '../../../lib/kafka';
import { sleep } from '../../../lib/wait';
import { countdown, type Progress } from '../../../runtime/progress';
import { Interrupted, type Experiment, type RunPort, type WorkloadContext } from '../api';

/** One reading of what quiescence waits for: the outbox backlog and the groups' lag (or why it is not known yet). */
export interface QuietReading {
  backlog: number;
  lag: number | string;
  groups: number;
}

export interface QuietLoop {
  read: () => Promise<QuietReading>;
  timeoutMs: number;
  note: (w: string) => void;
  /** the bounded wait ran out: the run cannot tell (its probes would read an undrained consumer) */
  cannotTell: (reason: string) => void;
  clock: { now(): number; sleep(ms: number): Promise<void> };
  signal?: AbortSignal;
  progress?: Progress;
}

/** Polls `read` until the backlog and the lag are both 0, or the timeout: then the run cannot tell. */
export async function untilQuiet(o: QuietLoop): Promise<void> {
  const t = o.clock.now();
  const deadline = t + o.timeoutMs;
  const left = countdown('quiescence: outbox backlog + consumer lag');
  let shown = 0;
  for (;;) {
    const { backlog, lag, groups } = await o.read();
    if (o.signal?.aborted) throw new Interrupted();
    const last = `outbox backlog ${backlog}, lag ${lag} over ${groups} group(s)`;
    if (backlog === 0 && lag === 0)
      return o.note(`quiescent after ${((o.clock.now() - t) / 1000).toFixed(1)} s (${last})`);
    // On stderr, every 2 s: how much is left and when it should be done.
    if (o.progress && o.clock.now() - shown >= 2000) {
      o.progress.step(
        `${left(backlog + (typeof lag === 'number' ? lag : 0))} (timeout in ${Math.ceil((deadline - o.clock.now()) / 1000)} s)`,
      );
      shown = o.clock.now();
    }
    if (o.clock.now() > deadline)
      return o.cannotTell(`quiescence not reached in ${o.timeoutMs} ms (${last})`);
    await o.clock.sleep(500);
  }
}

/** Outbox drained (if a relay runs) and the consumer group caught up (if a consumer runs), or the bounded timeout. */
export async function waitQuiescence(
  c: LabConfig,
  pool: Pool,
  e: Experiment,
  run: { topic: string; consumerGroup: string },
  note: (w: string) => void,
  cannotTell: (reason: string) => void,
  watcher: Pick<RunPort, 'stopped'>,
  signal?: AbortSignal,
  progress?: Progress,
) {
  const admin = labKafka(c, 'lab-engine').admin();
  await admin.connect();
  try {
    await untilQuiet({
      read: () => readQuiet(pool, admin, e, run, watcher),
      timeoutMs: e.quiescence.timeoutMs,
      note,
      cannotTell,
      clock: { now: Date.now, sleep },
      signal,
      progress,
    });
  } finally {
    await admin.disconnect();
  }
}

async function readQuiet(
  pool: Pool,
  admin: Admin,
  e: Experiment,
  run: { topic: string; consumerGroup: string },
  watcher: Pick<RunPort, 'stopped'>,
): Promise<QuietReading> {
  let backlog = 0;
  if ('outbox-relay' in e.services) {
    const [[row]] = (await pool.query(
      'SELECT COUNT(*) AS n FROM outbox WHERE topic = ? AND published_at IS NULL',
      [run.topic],
    )) as unknown as [{ n: number }[]];
    backlog = Number(row.n);
  }
  // Every group that must have seen every event: the consumer's, and each query-service's invalidations.
  // A crashed consumer that is being restarted still counts: its lag is exactly what we wait for.
  const groups = [
    ...('consumer-service' in e.services && !watcher.stopped('consumer-service')
      ? [run.consumerGroup]
      : []),
    ...['query-service', 'query-service-2']
      .filter((q) => q in e.services && !watcher.stopped(q))
      .map((q) => `${run.consumerGroup}-${q}`),
  ];
  // A retriable Kafka answer (a coordinator still loading after a crash) is "not known yet", not the end of the run.
  const lag = await groupLag(admin, run.topic, groups).catch(
    (err: Error & { retriable?: boolean }) => {
      if (!err.retriable) throw err;
      return `unknown (${err.message})`;
    },
  );
  return { backlog, lag, groups: groups.length };
}

/** Messages of `topic` not yet committed by the groups, summed over partitions and groups. */
async function groupLag(admin: Admin, topic: string, groups: string[]): Promise<number> {
  let lag = 0;
  const ends = await admin.fetchTopicOffsets(topic);
  for (const groupId of groups) {
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const done = new Map(
      committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? [],
    );
    lag += ends.reduce(
      (a, p) => a + Math.max(0, Number(p.high) - Math.max(0, done.get(p.partition) ?? 0)),
      0,
    );
  }
  return lag;
}

/** Waits until the outbox is drained and every group of the run has caught up (the file's quiescence settings). */
export const settle = (ctx: WorkloadContext<unknown>) =>
  waitQuiescence(
    ctx.c,
    ctx.pool,
    ctx.experiment,
    { topic: ctx.topic, consumerGroup: ctx.consumerGroup },
    ctx.note,
    ctx.inconclusive,
    ctx.services,
    ctx.signal,
    ctx.progress,
  );
