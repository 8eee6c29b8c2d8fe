import * as path from 'node:path';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { LabConfig } from '../src/lib/config';
import { inTransaction, labPool } from '../src/lib/db';
import { decodeProductEvent, encodeProductEvent } from '../src/lib/events';
import { sleep, waitFor } from '../src/lib/wait';
import { sideEffectsAndView } from '../src/services/consumer/apply';
import { loadConsumerConfig } from '../src/services/consumer/config';
import {
  assertRunning,
  deadService,
  freshTopic,
  getJson,
  log,
  metricSum,
  PRODUCT_BASE,
  productEvent,
  profileEnv,
  request,
  retry,
  RUN,
  withService,
} from './lib';
import { profileText, summarizeProfile } from './profile';

export interface ConsumerRun {
  mode: 'naive' | 'idempotent';
  /** messages timed: naive goes one message per transaction and is timed on the first `n` committed only */
  n: number;
  eventsPerSec: number;
  /** mean wall time per message from the service's histogram (idempotent: its batch's time) */
  meanHandleMs: number;
  /** mean messages per DB transaction (idempotent: lab_consumer_batch_size; naive: 1) */
  meanBatch: number;
}
/** A kafkajs eachBatch consumer in the bench process, same topic, fresh group. */
export interface RawRun {
  kind: 'no-op' | 'db-write';
  eventsPerSec: number;
}
export interface ConsumerResult {
  n: number;
  batchSize: number;
  runs: ConsumerRun[];
  /** no-op: the consume limit. db-write: the same multi-row ledger + read-model write per batch, no dedup (the DB limit) */
  raw: RawRun[];
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

/** One consumer-service process, a fresh group on the pre-filled topic: from partition assignment to `n` committed. */
async function run(
  c: LabConfig,
  kafka: Kafka,
  topic: string,
  n: number,
  mode: ConsumerRun['mode'],
  profFile?: string,
): Promise<ConsumerRun> {
  const group = `bench-${RUN}-${mode}-${Date.now()}`;
  const env = {
    LAB_TOPIC: topic,
    LAB_CONSUMER_GROUP: group,
    LAB_LOG_LEVEL: 'warn',
    ...(profFile ? profileEnv(profFile) : {}),
  };
  return withService(c, 'consumer-service', { modes: { CONSUMER_MODE: mode }, env }, async (s) => {
    // The join (a rebalance) takes seconds and is the same for every mode; the clock starts at assignment.
    await waitFor(
      'consumer assignment',
      async () => (await getJson<{ assigned: unknown }>(`${s.url}/health`)).assigned,
      { timeoutMs: 60_000, intervalMs: 10, abortIf: () => deadService(c) },
    );
    const t0 = process.hrtime.bigint();
    const deadline = Date.now() + 300_000;
    let done = 0;
    while ((done = await committed(kafka, group, topic)) < n) {
      if (Date.now() > deadline)
        throw new Error(`consumer ${mode} did not commit ${n} messages in 300 s`);
      assertRunning(c);
      await sleep(25);
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const metrics = (await request('GET', `${s.url}/metrics`)).body;
    const mean = (name: string) =>
      metricSum(metrics, `${name}_sum`) / metricSum(metrics, `${name}_count`);
    const meanBatch = mode === 'idempotent' ? mean('lab_consumer_batch_size') : 1;
    return {
      mode,
      n: done,
      eventsPerSec: done / secs,
      meanHandleMs: 1000 * mean('lab_consumer_process_duration_seconds'),
      meanBatch,
    };
  });
}

/**
 * A kafkajs eachBatch consumer in the bench process on the same topic with a fresh group, committing after each
 * chunk of `batchSize` like consumer-service. no-op: nothing else (what Kafka + kafkajs deliver). db-write: the
 * idempotent mode's side-effect + read-model statements for the whole chunk in one transaction, without the
 * processed_event SELECT and INSERT (what the DB allows for the same effect).
 */
async function rawConsumer(
  c: LabConfig,
  kafka: Kafka,
  topic: string,
  n: number,
  batchSize: number,
  kind: RawRun['kind'],
): Promise<RawRun> {
  const group = `bench-${RUN}-raw-${kind}-${Date.now()}`;
  const pool = labPool(c, { connectionLimit: 4 });
  const cfg = { ...loadConsumerConfig({ LAB_CONSUMER_GROUP: group }), group };
  const consumer = kafka.consumer({
    groupId: group,
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
    rebalanceTimeout: 10_000,
    allowAutoTopicCreation: false,
  });
  let seen = 0;
  let t0: bigint | undefined;
  let t1: bigint | undefined;
  consumer.on(consumer.events.GROUP_JOIN, () => (t0 ??= process.hrtime.bigint()));
  const eachBatch = async ({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload) => {
    for (let i = 0; i < batch.messages.length && isRunning() && !isStale(); i += batchSize) {
      const chunk = batch.messages.slice(i, i + batchSize);
      if (kind === 'db-write')
        await inTransaction(pool, (conn) =>
          sideEffectsAndView(
            conn,
            cfg,
            chunk.map((m) => decodeProductEvent(m.value)),
          ),
        );
      const last = chunk[chunk.length - 1].offset;
      await consumer.commitOffsets([
        { topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
      ]);
      resolveOffset(last);
      await heartbeat();
      if ((seen += chunk.length) >= n) t1 ??= process.hrtime.bigint();
    }
  };
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
    await waitFor(`raw ${kind} consumer to see ${n} messages`, async () => t1 !== undefined, {
      timeoutMs: 300_000,
      intervalMs: 10,
    });
    if (t0 === undefined || t1 === undefined)
      throw new Error(`${kind}: the consumer saw no message to time`);
    return { kind, eventsPerSec: n / (Number(t1 - t0) / 1e9) };
  } finally {
    await consumer.disconnect();
    await pool.end();
  }
}

export async function benchConsumer(
  c: LabConfig,
  kafka: Kafka,
  o: { n: number; nNaive: number; profDir: string },
): Promise<ConsumerResult> {
  const topic = await freshTopic(kafka);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // 500 products, versions rising: the read model sees updates as well as inserts, as in the service's real load.
  const events = Array.from({ length: o.n }, (_, i) =>
    productEvent(PRODUCT_BASE + 5000 + (i % 500), 1 + Math.floor(i / 500)),
  );
  try {
    for (let i = 0; i < o.n; i += 500)
      await producer.send({
        topic,
        acks: -1,
        messages: events.slice(i, i + 500).map(encodeProductEvent),
      });
  } finally {
    await producer.disconnect();
  }
  const batchSize = loadConsumerConfig({}).batchSize;
  // Every run starts from the same read model (none): a run after another would otherwise find its rows at the
  // same versions already and write nothing.
  const pool = labPool(c, { connectionLimit: 1 });
  const resetView = () =>
    pool.query('DELETE FROM product_view WHERE product_id BETWEEN ? AND ?', [
      PRODUCT_BASE + 5000,
      PRODUCT_BASE + 5499,
    ]);
  try {
    return await consumerRuns(c, kafka, o, topic, batchSize, resetView);
  } finally {
    await pool.end(); // also when a run fails: an open pool kept `npm run bench` alive after it finished
  }
}

async function consumerRuns(
  c: LabConfig,
  kafka: Kafka,
  o: { n: number; nNaive: number; profDir: string },
  topic: string,
  batchSize: number,
  resetView: () => Promise<unknown>,
): Promise<ConsumerResult> {
  const raw: RawRun[] = [];
  for (const kind of ['no-op', 'db-write'] as const) {
    await resetView();
    raw.push(
      await retry(`raw ${kind} consumer`, () => rawConsumer(c, kafka, topic, o.n, batchSize, kind)),
    );
    log(`raw ${kind} eachBatch consumer: ${raw[raw.length - 1].eventsPerSec.toFixed(0)} ev/s`);
  }
  const runs: ConsumerRun[] = [];
  for (const [mode, n] of [
    ['idempotent', o.n],
    ['naive', o.nNaive],
  ] as const) {
    await resetView();
    runs.push(await retry(`consumer ${mode}`, () => run(c, kafka, topic, n, mode)));
    const r = runs[runs.length - 1];
    log(
      `consumer ${mode}: ${r.eventsPerSec.toFixed(0)} ev/s, ${r.meanHandleMs.toFixed(2)} ms/message, ${r.meanBatch.toFixed(0)} messages per transaction`,
    );
  }
  const out: ConsumerResult = { n: o.n, batchSize, runs, raw };
  const idem = runs[0];
  if (idem.eventsPerSec < 0.5 * raw[1].eventsPerSec || idem.eventsPerSec < 2000) {
    const file = path.join(o.profDir, 'consumer-idempotent.cpuprofile');
    await resetView();
    await retry('consumer profile', () => run(c, kafka, topic, o.n, 'idempotent', file));
    out.profile = profileText(summarizeProfile(file));
  }
  return out;
}
