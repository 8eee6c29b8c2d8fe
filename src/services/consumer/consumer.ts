import type {
  Consumer,
  EachBatchPayload,
  EachMessagePayload,
  KafkaMessage,
  Producer,
} from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import { avroEventDecoder, isConfluentFramed, SchemaMismatchError } from '../../lib/avro-events';
import {
  decodeProductEvent,
  dlqTopic,
  EventDecodeError,
  headerStrings,
  messageEventId,
  type ProductEvent,
} from '../../lib/events';
import { schemaRegistryUrl } from '../../runtime/components/schema-registry';
import { counter, histogram } from '../../lib/metrics';
import { sleep } from '../../lib/wait';
import type { ServiceContext } from '../common/app';
import {
  applyEvent,
  assertNotPoison,
  isRetriable,
  type ApplyResult,
  type ViewStats,
} from './apply';
import { applyBatch } from './apply-batch';
import type { ConsumerConfig } from './config';

/** Headers a DLQ record carries so replay can restore it and an operator can see why it failed. */
export const DLQ_HEADERS = [
  'original-topic',
  'original-partition',
  'original-offset',
  'error',
  'attempts',
  'dedup-key',
] as const;

/** One message as delivered: where it came from is what the DLQ headers and the offset commit need. */
interface Delivery {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/**
 * Consumes the domain topic with manual offset commits, so "which messages had their offset committed before/after
 * their effect" is deterministic — the whole point of the three modes. naive and commit-first go one message at a
 * time; idempotent a batch per transaction, which its dedup makes safe (docs/services.md, "crash mid-batch").
 */
export function productConsumer(
  cfg: ConsumerConfig,
  ctx: ServiceContext,
  pool: Pool,
  consumer: Consumer,
  dlqProducer: Producer,
) {
  const labels = { mode: cfg.mode };
  const m = {
    messages: counter(
      ctx.registry,
      'lab_consumer_messages_total',
      'Messages handled, by mode and result (applied|duplicate|dlq)',
      ['mode', 'result'],
    ),
    sideEffects: counter(
      ctx.registry,
      'lab_consumer_side_effects_total',
      'Side effects performed (ledger rows written)',
      ['mode'],
    ),
    duplicates: counter(
      ctx.registry,
      'lab_consumer_duplicates_skipped_total',
      'Redelivered events skipped thanks to processed_event',
      ['mode'],
    ),
    dlq: counter(
      ctx.registry,
      'lab_consumer_dlq_total',
      'Messages sent to the DLQ after their attempts ran out or a non-retriable error',
      ['mode'],
    ),
    retries: counter(
      ctx.registry,
      'lab_consumer_retries_total',
      'Retries of a failed attempt (attempt 2 and later)',
      ['mode'],
    ),
    duration: histogram(
      ctx.registry,
      'lab_consumer_process_duration_seconds',
      'Handling of one message, retries and offset commit included (idempotent: of the batch it was in)',
      ['mode'],
    ),
    batchSize: histogram(
      ctx.registry,
      'lab_consumer_batch_size',
      'idempotent: messages per DB transaction (one eachBatch chunk)',
      ['mode'],
      [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
    ),
    fallbacks: counter(
      ctx.registry,
      'lab_consumer_batch_fallbacks_total',
      'idempotent: batch transactions that failed and were redone message by message',
      ['mode'],
    ),
    olderVersions: counter(
      ctx.registry,
      'lab_consumer_view_older_versions_total',
      'Events older than the read-model row they met (published out of order, or redelivered): applied = the read model went backwards (CONSUMER_VIEW_ORDER=last-write), ignored = refused (versioned)',
      ['mode', 'outcome'],
    ),
    undecodable: counter(
      ctx.registry,
      'lab_consumer_deserialization_failures_total',
      'Messages sent to the DLQ because they could not be deserialized (bad JSON, or an Avro writer schema the reader schema cannot resolve)',
      ['mode', 'reader'],
    ),
  };
  // Exported as 0 from the start (Prometheus' advice for a known label set): "no redelivery skipped" is a value,
  // and the dashboards' panel shows it instead of "no data".
  m.duplicates.inc(labels, 0);
  const avro = avroEventDecoder(schemaRegistryUrl(cfg.lab), cfg.lab.root, cfg.readerSchema);
  /** Avro (Confluent framing) or JSON, told apart by the first byte. */
  const decode = (value: Buffer | null): Promise<ProductEvent> | ProductEvent =>
    isConfluentFramed(value) ? avro.decode(value) : decodeProductEvent(value);
  const viewOutcome = {
    mode: cfg.mode,
    outcome: cfg.viewOrder === 'last-write' ? 'applied' : 'ignored',
  };
  m.olderVersions.inc(viewOutcome, 0); // exported from the start: a probe reading 0 has evidence, not "no data"
  /** Applies through `apply`, then counts what it met, once its transaction committed (a failed attempt counts nothing). */
  async function counted<T>(apply: (stats: ViewStats) => Promise<T>): Promise<T> {
    const stats: ViewStats = { olderVersions: 0 };
    const out = await apply(stats);
    if (stats.olderVersions) m.olderVersions.inc(viewOutcome, stats.olderVersions);
    return out;
  }
  let assigned: unknown = null;
  let lastError: string | null = null;

  const commit = (topic: string, partition: number, offset: string) =>
    consumer.commitOffsets([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);

  async function toDlq({ topic, partition, message }: Delivery, err: Error, attempts: number) {
    const dedupKey = messageEventId(message) ?? `${topic}/${partition}/${message.offset}`;
    await dlqProducer.send({
      topic: dlqTopic(cfg.topic),
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...headerStrings(message.headers),
            'original-topic': topic,
            'original-partition': String(partition),
            'original-offset': message.offset,
            error: err.message.slice(0, 1000),
            attempts: String(attempts),
            'dedup-key': dedupKey,
          },
        },
      ],
    });
    m.dlq.inc(labels);
    ctx.log.warn(
      { partition, offset: message.offset, dedupKey, attempts, err: err.message },
      'sent to DLQ',
    );
  }

  /** Tries `attempt` up to maxAttempts with exponential backoff; a non-retriable error goes to the DLQ at once. */
  async function withRetry<T>(d: Delivery, attempt: () => Promise<T>): Promise<T | 'dlq'> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (e) {
        lastError = (e as Error).message;
        if (!isRetriable(e) || n >= cfg.maxAttempts) {
          await toDlq(d, e as Error, n);
          if (e instanceof SchemaMismatchError || e instanceof EventDecodeError)
            m.undecodable.inc({ ...labels, reader: cfg.readerSchema });
          return 'dlq';
        }
        m.retries.inc(labels);
        await sleep(cfg.backoffMs * 2 ** (n - 1));
      }
    }
  }

  /**
   * Counts what happened to each message, then passes the failpoint once per event handled — applied, or skipped as
   * a duplicate (not for the DLQ): `crash@N` then counts the same deliveries whatever the mode, so naive and
   * idempotent meet the same number of crashes from one stream (E-003's two sides), redeliveries included.
   */
  async function account(results: (ApplyResult | 'dlq')[]) {
    for (const result of results) {
      m.messages.inc({ ...labels, result });
      if (result === 'applied') m.sideEffects.inc(labels);
      if (result === 'duplicate') m.duplicates.inc(labels);
    }
    if (cfg.mode === 'commit-first') return;
    for (const result of results)
      if (result === 'applied' || result === 'duplicate')
        await ctx.failpoints.hit('consumer.after-side-effect-before-commit');
  }

  /** naive and commit-first: one message, one transaction, one offset commit — the shapes E-003/E-004 reproduce. */
  async function eachMessage({ topic, partition, message }: EachMessagePayload) {
    const end = m.duration.startTimer(labels);
    if (cfg.mode === 'commit-first') await commit(topic, partition, message.offset);
    // commit-first passes it after its offset commit; naive at the same point of each delivery, with nothing committed.
    await ctx.failpoints.hit('consumer.after-commit-before-process');
    await account([
      await withRetry({ topic, partition, message }, async () => {
        const e = await decode(message.value);
        return counted((stats) => applyEvent(pool, cfg, e, stats));
      }),
    ]);
    if (cfg.mode !== 'commit-first') await commit(topic, partition, message.offset);
    end();
  }

  /**
   * idempotent: the messages of one partition in one DB transaction. Undecodable and poison messages are retried
   * and dead-lettered first, one by one; the rest go to applyBatch. If that transaction fails (a value the DB
   * rejects, a deadlock), the batch is redone message by message, so one bad event costs its own retries and
   * DLQ entry, not the batch. Offsets are committed only after all of it: a crash before leaves the transaction
   * committed and the offsets not, and the redelivered messages are then skipped as duplicates.
   */
  async function applyChunk(topic: string, partition: number, messages: KafkaMessage[]) {
    // Once per delivery, where commit-first would have committed its offset: a crash here, with nothing committed,
    // redelivers the chunk (E-004's pattern side meets commit-first's crashes at the same counts).
    for (let k = 0; k < messages.length; k++)
      await ctx.failpoints.hit('consumer.after-commit-before-process');
    const deliveries = messages.map((message) => ({ topic, partition, message }));
    const results: (ApplyResult | 'dlq')[] = [];
    const events: (ProductEvent | 'dlq')[] = [];
    for (const d of deliveries) {
      events.push(
        await withRetry(d, async () => {
          const e = await decode(d.message.value);
          assertNotPoison(cfg, e);
          return e;
        }),
      );
    }
    const ok = events.flatMap((e, i) => (e === 'dlq' ? [] : [{ e, i }]));
    try {
      const applied = await counted((stats) =>
        applyBatch(
          pool,
          cfg,
          ok.map((x) => x.e),
          stats,
        ),
      );
      ok.forEach((x, j) => (results[x.i] = applied[j]));
    } catch (e) {
      lastError = (e as Error).message;
      m.fallbacks.inc(labels);
      ctx.log.warn(
        { partition, from: messages[0].offset, n: ok.length, err: lastError },
        'batch transaction failed; applying its messages one by one',
      );
      for (const x of ok)
        results[x.i] = await withRetry(deliveries[x.i], () =>
          counted((stats) => applyEvent(pool, cfg, x.e, stats)),
        );
    }
    events.forEach((e, i) => e === 'dlq' && (results[i] = 'dlq'));
    await account(results);
  }

  async function eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload) {
    const { topic, partition } = batch;
    for (let i = 0; i < batch.messages.length && isRunning() && !isStale(); i += cfg.batchSize) {
      const chunk = batch.messages.slice(i, i + cfg.batchSize);
      const t0 = process.hrtime.bigint();
      await applyChunk(topic, partition, chunk);
      const last = chunk[chunk.length - 1].offset;
      await commit(topic, partition, last);
      resolveOffset(last);
      // Each message of the chunk took the chunk's time, from the start of its transaction to its offset commit.
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      for (let k = 0; k < chunk.length; k++) m.duration.observe(labels, secs);
      m.batchSize.observe(labels, chunk.length);
      await heartbeat();
    }
  }

  return {
    async start() {
      consumer.on(consumer.events.GROUP_JOIN, (e) => (assigned = e.payload.memberAssignment));
      // kafkajs gives up on some errors without restarting; exit so `chaos services status` shows it dead.
      consumer.on(consumer.events.CRASH, (e) => {
        ctx.log.error(
          { err: e.payload.error.message, restart: e.payload.restart },
          'consumer crashed',
        );
        if (!e.payload.restart) process.exit(3);
      });
      await consumer.subscribe({ topic: cfg.topic, fromBeginning: true });
      // If eachMessage/eachBatch throws (e.g. DLQ unreachable) kafkajs retries from the last resolved offset: nothing is skipped.
      if (cfg.mode === 'idempotent')
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
      else await consumer.run({ autoCommit: false, eachMessage });
    },
    health: async () => ({
      mode: cfg.mode,
      group: cfg.group,
      topic: cfg.topic,
      poison: [...cfg.poison],
      maxAttempts: cfg.maxAttempts,
      batchSize: cfg.mode === 'idempotent' ? cfg.batchSize : 1,
      readerSchema: cfg.readerSchema,
      assigned,
      lastError,
    }),
  };
}
