import { bestEffort } from '../../lib/best-effort';
import type { Consumer, Kafka, Message } from 'kafkajs';
import type { RowDataPacket } from 'mysql2/promise';
import { z } from 'zod';
import { EVENT_ID_HEADER } from '../../lib/events';
import { labKafka } from '../../lib/kafka';
import {
  atMost,
  isolationCluster,
  readBetweenHws,
  READ_COMMITTED,
  READ_UNCOMMITTED,
  type ClusterLike,
} from '../../lib/offsets';
import { sleep, waitFor } from '../../lib/wait';
import { finished, prng, type WorkloadContext, type WorkloadKind } from './api';

const Params = z
  .object({
    /** transactions that commit before the interesting part (the read_committed consumer must apply all of them) */
    committedTransactions: z.number().int().min(1).max(200).default(5),
    messagesPerTransaction: z.number().int().min(1).max(200).default(4),
    /** how long the open transaction is held at its before-commit point, at least (longer until Prometheus saw it) */
    holdOpenMs: z.number().int().min(0).max(120_000).default(4000),
    /** bound on every wait: consumers catching up, Prometheus scraping the open transaction, LSO reaching the HW */
    waitMs: z.number().int().min(1000).max(300_000).default(45_000),
    /** the consumer's isolation level: read_committed (the pattern) or read_uncommitted (the anti-pattern) */
    isolation: z.enum(['read_committed', 'read_uncommitted']).default('read_committed'),
    /**
     * The scenario's faults: one transaction aborted, one held open. Off (E-007's counterfactual), both commit at
     * once, so read_uncommitted has nothing past the LSO to read.
     */
    abortAndHold: z.boolean().default(true),
  })
  .strict();
type Params = z.infer<typeof Params>;

type Phase = 'committed' | 'aborted' | 'open' | 'after';
interface Delivery {
  eventId: string;
  partition: number;
  offset: bigint;
  phase: Phase;
}

const FIGURES = [
  'committedEvents',
  'abortedEvents',
  'openEvents',
  'partitions',
  'hwMinusLsoWhileAbortPending',
  'hwMinusLsoAfterAbort',
  'redeliveries',
  'hwMinusLsoWhileOpen',
  'receivedPastLsoWhileOpen',
  'prometheusSawOpen',
  'hwMinusLsoAfterEnd',
  'hwAtEnd',
  'appliedEvents',
  'committedMissing',
  'abortedApplied',
] as const;

/** Seeded UUID-shaped event ids (side_effect_ledger.event_id is CHAR(36)). */
function eventIds(rand: () => number) {
  const hex = (n: number) =>
    Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return () => `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;
}

interface Offsets {
  partition: number;
  lso: bigint;
  hw: bigint;
}

/**
 * LSO and HW per partition of one topic, as `chaos offsets` reads them (ListOffsets READ_COMMITTED / READ_UNCOMMITTED),
 * over connections kept for the whole run: polled after every transaction, a fresh client each time would cost more
 * than the transaction itself on a busy box.
 */
async function offsetsReader(kafka: Kafka, topic: string) {
  const rc = isolationCluster(kafka, READ_COMMITTED) as ClusterLike & {
    findTopicPartitionMetadata(t: string): { partitionId: number }[];
  };
  const ru = isolationCluster(kafka, READ_UNCOMMITTED);
  await Promise.all([rc.connect(), ru.connect()]);
  await Promise.all([rc.addTargetTopic(topic), ru.addTargetTopic(topic)]);
  const req = () => [
    {
      topic,
      partitions: rc.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId })),
    },
  ];
  return {
    async read(): Promise<Offsets[]> {
      const latest = async (c: ClusterLike) =>
        new Map(
          (await c.fetchTopicsOffset(req()))[0].partitions.map((p) => [
            p.partition,
            BigInt(p.offset),
          ]),
        );
      const { hw, between: lso } = await readBetweenHws(
        () => latest(ru),
        () => latest(rc),
      );
      return [...hw]
        .map(([partition, h]) => ({ partition, hw: h, lso: atMost(lso.get(partition) ?? h, h) }))
        .sort((a, b) => a.partition - b.partition);
    },
    close: () =>
      Promise.all(
        [rc.disconnect(), ru.disconnect()].map((x) => bestEffort(x, 'closing an offsets reader')),
      ),
  };
}

const gap = (parts: Offsets[]) => parts.reduce((a, p) => a + Number(p.hw - p.lso), 0);
/** a consumer group may get a record twice (a rebalance before its offset commit): count events, not deliveries */
const distinct = (ds: Delivery[]) => new Set(ds.map((d) => d.eventId)).size;
const stable = (parts: Offsets[]) => parts.every((p) => p.lso === p.hw);

/**
 * E-007: a transactional producer writes K committed transactions, one it aborts, and one it holds open at its
 * before-commit point; a consumer at the `isolation` level of this side applies what it receives (one
 * side_effect_ledger row per event, the real consequence). Both sides see the same transactions; only the isolation
 * differs. Figures come from the brokers (ListOffsets per isolation level), from the ledger in MariaDB, and from
 * Prometheus (the kafka-offsets-exporter's gauges).
 */
export const transactionsScenario: WorkloadKind<typeof Params> = {
  kind: 'transactions',
  summary:
    'committed, aborted and held-open Kafka transactions read by a read_committed or a read_uncommitted consumer',
  params: Params,
  figures: FIGURES,
  facts: [],
  async run(ctx: WorkloadContext<Params>) {
    const r = await prepare(ctx);
    try {
      const [consumer] = await Promise.all([
        applier(r.kafka, ctx, r.group, r.readUncommitted, (d) =>
          r.seen.push({ ...d, phase: r.phase }),
        ),
        r.producer.connect(),
      ]);
      r.consumers.push(consumer);
      await commitTransactions(ctx, r);
      await abortOne(ctx, r);
      const open = await holdOneOpen(ctx, r);
      await commitHeld(ctx, r, open);
    } finally {
      await Promise.all(
        [r.producer.disconnect(), ...r.consumers.map((c) => c.disconnect())].map((x) =>
          bestEffort(x, 'disconnecting a client'),
        ),
      );
      await r.offsets.close();
    }
    return auditLedger(ctx, r);
  },
};

type TxRun = Awaited<ReturnType<typeof prepare>>;

/** The run's clients, seeded batches, event ids per fate, figures (NaN until measured) and deliveries. */
async function prepare(ctx: WorkloadContext<Params>) {
  const p = ctx.params;
  const kafka = labKafka(ctx.c, `exp-${ctx.runId}`);
  const nextId = eventIds(prng(ctx.seed));
  const rand = prng(ctx.seed ^ 0x5eed);
  const batch = (txn: string) =>
    Array.from({ length: p.messagesPerTransaction }, (_, i): Message & { eventId: string } => {
      const eventId = nextId();
      // seeded keys: the seed decides how each transaction spreads over the partitions
      return {
        eventId,
        key: `k${Math.floor(rand() * 12)}`,
        value: JSON.stringify({ eventId, txn, seq: i }),
        headers: { [EVENT_ID_HEADER]: eventId },
      };
    });
  const ids = {
    committed: new Set<string>(),
    aborted: new Set<string>(),
    open: new Set<string>(),
  };
  // NaN until measured: a figure this run never read fails its probe instead of passing as 0.
  const f: Record<string, number> = Object.fromEntries(FIGURES.map((k) => [k, NaN]));
  const offsets = await offsetsReader(kafka, ctx.topic);
  // Until LSO = HW on every partition (the transaction markers are written), bounded: the last reading is returned
  // either way, so "LSO reached HW" is a figure read from the brokers that a probe can see fail.
  const settled = async () => {
    const deadline = Date.now() + p.waitMs;
    for (;;) {
      const reading = await offsets.read();
      if (stable(reading) || Date.now() >= deadline) return reading;
      await sleep(100);
    }
  };
  const producer = kafka.producer({
    transactionalId: `exp-${ctx.runId}-tx`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  return {
    p,
    kafka,
    batch,
    ids,
    f,
    phase: 'committed' as Phase,
    readUncommitted: p.isolation === 'read_uncommitted',
    group: `${ctx.consumerGroup}-${p.isolation.replace('_', '-')}`,
    seen: [] as Delivery[],
    consumers: [] as Consumer[],
    offsets,
    settled,
    producer,
  };
}

/** K committed transactions, each settled (its markers written) before the next. */
async function commitTransactions(ctx: WorkloadContext<Params>, r: TxRun) {
  const { p } = r;
  for (let t = 1; t <= p.committedTransactions; t++) {
    const msgs = r.batch(`committed-${t}`);
    const tx = await r.producer.transaction();
    await tx.send({ topic: ctx.topic, messages: msgs });
    await tx.commit();
    msgs.forEach((m) => r.ids.committed.add(m.eventId));
    // commit() returns once the coordinator logged PrepareCommit; the markers that move the LSO follow. Wait for
    // them, so each later HW − LSO reading holds one transaction only.
    await r.settled();
  }
  ctx.note(`${p.committedTransactions} transactions of ${p.messagesPerTransaction} committed`);
}

/** One transaction aborted (committed in the counterfactual), HW − LSO read while pending and after. */
async function abortOne(ctx: WorkloadContext<Params>, r: TxRun) {
  const { p, f } = r;
  r.phase = 'aborted';
  const abortedMsgs = r.batch('aborted');
  const aborted = await r.producer.transaction();
  await aborted.send({ topic: ctx.topic, messages: abortedMsgs });
  abortedMsgs.forEach((m) => (p.abortAndHold ? r.ids.aborted : r.ids.committed).add(m.eventId));
  f.hwMinusLsoWhileAbortPending = gap(await r.offsets.read());
  await (p.abortAndHold ? aborted.abort() : aborted.commit());
  f.hwMinusLsoAfterAbort = gap(await r.settled());
  ctx.note(
    `one transaction ${p.abortAndHold ? 'aborted' : 'committed (counterfactual)'}: HW − LSO was ${f.hwMinusLsoWhileAbortPending} before, ${f.hwMinusLsoAfterAbort} after`,
  );
}

/** One transaction held open at its before-commit point (committed at once in the counterfactual), for holdOpenMs. */
async function holdOneOpen(ctx: WorkloadContext<Params>, r: TxRun) {
  const { p, f, seen } = r;
  r.phase = 'open';
  const openMsgs = r.batch('open');
  const open = await r.producer.transaction();
  await open.send({ topic: ctx.topic, messages: openMsgs });
  openMsgs.forEach((m) => r.ids.open.add(m.eventId));
  if (!p.abortAndHold) await open.commit();
  const heldAt = Date.now();
  ctx.note(
    p.abortAndHold
      ? `a transaction of ${openMsgs.length} held open at its before-commit point`
      : `a transaction of ${openMsgs.length} committed at once (counterfactual)`,
  );
  const whileOpen = await r.offsets.read();
  f.partitions = whileOpen.length;
  f.hwMinusLsoWhileOpen = gap(whileOpen);
  // Hold until the consumer read everything it is allowed to (read_committed: up to the LSO; read_uncommitted: up
  // to the HW, the aborted and open records included), and Prometheus scraped the open state.
  const before = p.committedTransactions * p.messagesPerTransaction;
  const allowed =
    r.readUncommitted || !p.abortAndHold ? before + 2 * p.messagesPerTransaction : before;
  await waitFor(
    `${p.isolation} to catch up to the ${r.readUncommitted ? 'HW' : 'LSO'}`,
    async () => distinct(seen) >= allowed,
    { timeoutMs: p.waitMs, intervalMs: 200 },
  );
  const promGap = `sum(lab_kafka_partition_hw{topic="${ctx.topic}"} - lab_kafka_partition_lso{topic="${ctx.topic}"})`;
  f.prometheusSawOpen = await waitFor(
    'Prometheus to scrape the open transaction',
    async () => (await ctx.prom.scalar(promGap)) === f.hwMinusLsoWhileOpen && 1,
    { timeoutMs: p.waitMs, intervalMs: 500 },
  ).catch(() => 0); // 0 = never seen: the probe on prometheusSawOpen then fails, naming it
  await sleep(Math.max(0, heldAt + p.holdOpenMs - Date.now()));
  const lso = new Map(whileOpen.map((x) => [x.partition, x.lso]));
  f.receivedPastLsoWhileOpen = distinct(
    seen.filter((d) => d.offset >= (lso.get(d.partition) ?? 0n)),
  );
  ctx.note(
    `held ${Date.now() - heldAt} ms: HW − LSO = ${f.hwMinusLsoWhileOpen}; ${p.isolation} received ${f.receivedPastLsoWhileOpen} records past the LSO`,
  );
  return { open, openMsgs };
}

/** The held transaction committed; until it settled and the consumer read it. */
async function commitHeld(
  ctx: WorkloadContext<Params>,
  r: TxRun,
  held: Awaited<ReturnType<typeof holdOneOpen>>,
) {
  const { p, f, seen, ids } = r;
  r.phase = 'after';
  if (p.abortAndHold) await held.open.commit();
  held.openMsgs.forEach((m) => ids.committed.add(m.eventId));
  const end = await r.settled();
  f.hwMinusLsoAfterEnd = gap(end);
  f.hwAtEnd = end.reduce((a, x) => a + Number(x.hw), 0);
  await waitFor(
    `${p.isolation} to read the committed transaction`,
    async () => distinct(seen) >= ids.committed.size + (r.readUncommitted ? ids.aborted.size : 0),
    { timeoutMs: p.waitMs, intervalMs: 200 },
  );
  f.redeliveries = seen.length - distinct(seen);
  ctx.note(
    `held transaction committed: HW − LSO = ${f.hwMinusLsoAfterEnd} over every partition, ${p.isolation} applied it`,
  );
}

/** The audit: what the consumer really applied, from the ledger in MariaDB, against what the producer committed. */
async function auditLedger(ctx: WorkloadContext<Params>, r: TxRun) {
  const { p, f, ids } = r;
  const [rows] = await ctx.pool.query<RowDataPacket[]>(
    'SELECT DISTINCT event_id FROM side_effect_ledger WHERE consumer_group = ?',
    [r.group],
  );
  const applied = new Set(rows.map((row) => String(row.event_id)));
  const count = (of: Set<string>) => [...of].filter((id) => applied.has(id)).length;
  Object.assign(f, {
    committedEvents: ids.committed.size,
    abortedEvents: ids.aborted.size,
    openEvents: ids.open.size,
    appliedEvents: applied.size,
    committedMissing: ids.committed.size - count(ids.committed),
    abortedApplied: count(ids.aborted),
  });
  const table = [
    '| consumer | applied | committed events applied | aborted events applied |',
    '|---|---|---|---|',
    `| ${p.isolation} | ${applied.size} | ${count(ids.committed)} / ${ids.committed.size} | ${count(ids.aborted)} / ${ids.aborted.size} |`,
  ].join('\n');
  return finished({
    figures: f,
    sections: [{ title: 'What the consumer applied (side_effect_ledger)', markdown: table }],
    data: {
      abortedApplied: [...ids.aborted].filter((id) => applied.has(id)),
      deliveries: r.seen.length,
    },
  });
}

/** A consumer that applies every event it receives: one ledger row, then the delivery is recorded. */
async function applier(
  kafka: Kafka,
  ctx: WorkloadContext<Params>,
  groupId: string,
  readUncommitted: boolean,
  onApplied: (d: Omit<Delivery, 'phase'>) => void,
): Promise<Consumer> {
  const consumer = kafka.consumer({
    groupId,
    readUncommitted,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: ctx.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const eventId = message.headers?.[EVENT_ID_HEADER]?.toString() ?? '';
      await ctx.pool.query(
        'INSERT INTO side_effect_ledger (event_id, consumer_group, effect) VALUES (?, ?, ?)',
        [eventId, groupId, 'applied'],
      );
      onApplied({ eventId, partition, offset: BigInt(message.offset) });
    },
  });
  return consumer;
}
