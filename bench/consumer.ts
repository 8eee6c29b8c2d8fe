import * as path from 'node:path';
import type { Kafka } from 'kafkajs';
import type { LabConfig } from '../src/lib/config';
import { encodeProductEvent } from '../src/lib/events';
import { sleep, waitFor } from '../src/lib/wait';
import { labPool, inTransaction } from '../src/lib/db';
import { assertRunning, mean, ms, pct, deadService, freshTopic, getJson, log, metricSum, PRODUCT_BASE, productEvent, profileEnv, request, retry, RUN, withService } from './lib';
import { profileText, summarizeProfile } from './profile';

export interface ConsumerRun {
  mode: 'naive' | 'idempotent';
  eventsPerSec: number;
  /** mean wall time of one message inside eachMessage (DB transaction + offset commit), from the service's histogram */
  meanHandleMs: number;
}
export interface ConsumerResult {
  n: number;
  runs: ConsumerRun[];
  /** the idempotent consumer's DB transaction alone, issued from the bench: the rest of ms/message is Kafka + kafkajs */
  rawTxMs: { p50: number; mean: number };
  profile?: string;
}

async function committed(kafka: Kafka, group: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return t.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** One consumer-service process, a fresh group on the pre-filled topic: from partition assignment to lag 0. */
async function run(c: LabConfig, kafka: Kafka, topic: string, n: number, mode: ConsumerRun['mode'], profFile?: string): Promise<ConsumerRun> {
  const group = `bench-${RUN}-${mode}-${Date.now()}`;
  const env = { LAB_TOPIC: topic, LAB_CONSUMER_GROUP: group, LAB_LOG_LEVEL: 'warn', ...(profFile ? profileEnv(profFile) : {}) };
  return withService(c, 'consumer-service', { modes: { CONSUMER_MODE: mode }, env }, async (s) => {
    // The join (a rebalance) takes seconds and is the same for both modes; the clock starts at assignment.
    await waitFor('consumer assignment', async () => (await getJson<{ assigned: unknown }>(`${s.url}/health`)).assigned, { timeoutMs: 60_000, intervalMs: 10, abortIf: () => deadService(c) });
    const t0 = process.hrtime.bigint();
    const deadline = Date.now() + 300_000;
    while ((await committed(kafka, group, topic)) < n) {
      if (Date.now() > deadline) throw new Error(`consumer ${mode} did not reach lag 0 in 300 s`);
      assertRunning(c);
      await sleep(25);
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const metrics = (await request('GET', `${s.url}/metrics`)).body;
    const sum = metricSum(metrics, 'lab_consumer_process_duration_seconds_sum');
    const count = metricSum(metrics, 'lab_consumer_process_duration_seconds_count');
    return { mode, eventsPerSec: n / secs, meanHandleMs: (1000 * sum) / count };
  });
}

/** The same statements applyEvent runs in idempotent mode, one transaction each, sequentially. */
async function rawTx(c: LabConfig, n: number): Promise<{ p50: number; mean: number }> {
  const pool = labPool(c, { connectionLimit: 1 });
  const group = `bench-${RUN}-rawtx`;
  const xs: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const e = productEvent(PRODUCT_BASE + 9000 + (i % 50), 1 + i);
      const t0 = process.hrtime.bigint();
      await inTransaction(pool, async (conn) => {
        await conn.query('INSERT INTO processed_event (consumer_group, event_id) VALUES (?, ?)', [group, e.eventId]);
        await conn.query('INSERT INTO side_effect_ledger (event_id, consumer_group, effect) VALUES (?, ?, ?)', [e.eventId, group, 'bench']);
        await conn.query('INSERT INTO product_view (product_id, name, price, stock, version) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE version = GREATEST(version, VALUES(version))', [e.productId, e.name, e.price, e.stock, e.version]);
      });
      xs.push(ms(t0));
    }
  } finally {
    await pool.end();
  }
  return { p50: pct(xs, 50), mean: mean(xs) };
}

export async function benchConsumer(c: LabConfig, kafka: Kafka, n: number, profDir: string): Promise<ConsumerResult> {
  const topic = await freshTopic(kafka);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const events = Array.from({ length: n }, (_, i) => productEvent(PRODUCT_BASE + 5000 + (i % 500), 1 + Math.floor(i / 500)));
  for (let i = 0; i < n; i += 500) await producer.send({ topic, acks: -1, messages: events.slice(i, i + 500).map(encodeProductEvent) });
  await producer.disconnect();
  const runs: ConsumerRun[] = [];
  for (const mode of ['naive', 'idempotent'] as const) {
    runs.push(await retry(`consumer ${mode}`, () => run(c, kafka, topic, n, mode)));
    log(`consumer ${mode}: ${runs[runs.length - 1].eventsPerSec.toFixed(0)} ev/s, ${runs[runs.length - 1].meanHandleMs.toFixed(2)} ms/message`);
  }
  const out: ConsumerResult = { n, runs, rawTxMs: await rawTx(c, 200) };
  log(`idempotent DB transaction alone: p50 ${out.rawTxMs.p50.toFixed(2)} ms, mean ${out.rawTxMs.mean.toFixed(2)} ms`);
  if (runs[1].eventsPerSec < 0.5 * runs[0].eventsPerSec) {
    const file = path.join(profDir, 'consumer-idempotent.cpuprofile');
    await retry('consumer profile', () => run(c, kafka, topic, n, 'idempotent', file));
    out.profile = profileText(summarizeProfile(file));
  }
  return out;
}
