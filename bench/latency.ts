import type { Kafka } from 'kafkajs';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { LabConfig } from '../src/lib/config';
import { sleep, waitFor } from '../src/lib/wait';
import type { StartedService } from '../src/runtime/services';
import {
  assertRunning,
  deadService,
  freshTopic,
  getJson,
  log,
  pct,
  request,
  retry,
  RUN,
  withService,
} from './lib';
import { RELAY_DEFAULTS } from '../src/services/outbox-relay/config';

export interface LatencyRun {
  label: string;
  n: number;
  /** accepted = the 201 arrived; applied = the consumer's ledger row (its created_at, DB clock = same host clock) */
  acceptedP50: number;
  acceptedP99: number;
  sentP50: number;
  sentP99: number;
  lost: number;
  /** outbox only: 201 → outbox.published_at, and published_at → ledger row (p50 ms): which hop the time is in */
  toPublishedP50?: number;
  publishedToAppliedP50?: number;
  toPublishedP99?: number;
  publishedToAppliedP99?: number;
}

interface Cmd {
  eventId: string;
  sentAt: number;
  acceptedAt: number;
}

/**
 * Open loop at `rate`/s (meant to be below the consumer's capacity, so this is the pipeline's latency, not a queue's): a
 * closed loop would hide queueing, and one slow command must not delay the next.
 */
async function issue(cmd: StartedService, n: number, rate: number): Promise<Cmd[]> {
  const out: Promise<Cmd | null>[] = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    out.push(
      (async () => {
        const sentAt = Date.now();
        const r = await request('POST', `${cmd.url}/products`, {
          name: 'bench e2e',
          price: 9.5,
          stock: i,
        });
        const acceptedAt = Date.now();
        return r.status === 201
          ? { eventId: (JSON.parse(r.body) as { eventId: string }).eventId, sentAt, acceptedAt }
          : null;
      })(),
    );
  }
  return (await Promise.all(out)).filter((x): x is Cmd => !!x);
}

async function measure(
  c: LabConfig,
  pool: Pool,
  group: string,
  cmds: Cmd[],
  label: string,
): Promise<LatencyRun> {
  const applied = new Map<string, number>();
  const deadline = Date.now() + 60_000;
  while (applied.size < cmds.length && Date.now() < deadline) {
    const missing = cmds.filter((x) => !applied.has(x.eventId)).map((x) => x.eventId);
    const [rows] = await pool.query<RowDataPacket[]>(
      'SELECT event_id, UNIX_TIMESTAMP(created_at) * 1000 AS t FROM side_effect_ledger WHERE consumer_group = ? AND event_id IN (?)',
      [group, missing],
    );
    for (const r of rows) applied.set(String(r.event_id), Number(r.t));
    if (applied.size < cmds.length) await sleep(100);
    assertRunning(c);
  }
  const done = cmds.filter((x) => applied.has(x.eventId));
  const [pub] = await pool.query<RowDataPacket[]>(
    'SELECT event_id, UNIX_TIMESTAMP(published_at) * 1000 AS t FROM outbox WHERE event_id IN (?) AND published_at IS NOT NULL',
    [cmds.map((x) => x.eventId)],
  );
  const published = new Map(pub.map((r) => [String(r.event_id), Number(r.t)]));
  const hop = done.filter((x) => published.has(x.eventId));
  const acc = done.map((x) => (applied.get(x.eventId) ?? NaN) - x.acceptedAt);
  const sent = done.map((x) => (applied.get(x.eventId) ?? NaN) - x.sentAt);
  return {
    label,
    n: done.length,
    acceptedP50: pct(acc, 50),
    acceptedP99: pct(acc, 99),
    sentP50: pct(sent, 50),
    sentP99: pct(sent, 99),
    lost: cmds.length - done.length,
    ...(hop.length
      ? hops(
          hop.map((x) => (published.get(x.eventId) ?? NaN) - x.acceptedAt),
          hop.map((x) => (applied.get(x.eventId) ?? NaN) - (published.get(x.eventId) ?? NaN)),
        )
      : {}),
  };
}

/** Which hop the time is in: 201 → outbox.published_at (relay) and published_at → ledger row (Kafka + consumer). */
function hops(toPublished: number[], publishedToApplied: number[]) {
  return {
    toPublishedP50: pct(toPublished, 50),
    toPublishedP99: pct(toPublished, 99),
    publishedToAppliedP50: pct(publishedToApplied, 50),
    publishedToAppliedP99: pct(publishedToApplied, 99),
  };
}

/**
 * command-service-7 → (outbox-relay-7 →) Kafka → consumer-service-7 (idempotent) on one fresh topic. Outbox with
 * the relay's default setting and with the sweep's best; then direct. Rows may be wiped by a concurrent experiment:
 * such events show up as `lost`, the percentiles use the rest.
 */
export const benchLatency = (...a: Parameters<typeof latencyOnce>) =>
  retry('e2e latency', () => latencyOnce(...a));

async function latencyOnce(
  c: LabConfig,
  kafka: Kafka,
  pool: Pool,
  o: { n: number; rate: number; best: { batch: number; pollMs: number } },
): Promise<LatencyRun[]> {
  const topic = await freshTopic(kafka);
  const group = `bench-${RUN}-e2e`;
  const quiet = { LAB_TOPIC: topic, LAB_LOG_LEVEL: 'warn' };
  return withService(
    c,
    'consumer-service',
    { modes: { CONSUMER_MODE: 'idempotent' }, env: { ...quiet, LAB_CONSUMER_GROUP: group } },
    async (consumer) => {
      await waitFor(
        'consumer assignment',
        async () => (await getJson<{ assigned: unknown }>(`${consumer.url}/health`)).assigned,
        { timeoutMs: 60_000, intervalMs: 50, abortIf: () => deadService(c) },
      );
      const runs: LatencyRun[] = [];
      const relays = [
        { batch: RELAY_DEFAULTS.batchSize, pollMs: RELAY_DEFAULTS.pollMs, tag: 'default' },
        { ...o.best, tag: 'best' },
      ].filter((r, i, a) => i === 0 || r.batch !== a[0].batch || r.pollMs !== a[0].pollMs);
      for (const r of relays) {
        const env = {
          ...quiet,
          RELAY_BATCH_SIZE: String(r.batch),
          RELAY_POLL_MS: String(r.pollMs),
        };
        runs.push(
          await withService(c, 'outbox-relay', { env }, () =>
            withService(
              c,
              'command-service',
              { modes: { COMMAND_MODE: 'outbox' }, env: quiet },
              async (cmd) => {
                await issue(cmd, 10, o.rate); // warm-up: connections, JIT, the relay's first poll
                return measure(
                  c,
                  pool,
                  group,
                  await issue(cmd, o.n, o.rate),
                  `outbox (relay batch ${r.batch}, poll ${r.pollMs} ms, ${r.tag})`,
                );
              },
            ),
          ),
        );
        log(
          `e2e ${runs[runs.length - 1].label}: p50 ${runs[runs.length - 1].acceptedP50} ms p99 ${runs[runs.length - 1].acceptedP99} ms`,
        );
      }
      runs.push(
        await withService(
          c,
          'command-service',
          { modes: { COMMAND_MODE: 'direct' }, env: quiet },
          async (cmd) => {
            await issue(cmd, 10, o.rate);
            return measure(c, pool, group, await issue(cmd, o.n, o.rate), 'direct');
          },
        ),
      );
      log(
        `e2e direct: p50 ${runs[runs.length - 1].acceptedP50} ms p99 ${runs[runs.length - 1].acceptedP99} ms`,
      );
      return runs;
    },
  );
}
