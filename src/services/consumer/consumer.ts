import type {
  Consumer,
  EachBatchPayload,
  EachMessagePayload,
  KafkaMessage,
  Producer,
} from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import { avroEventDecoder, isConfluentFramed, SchemaMismatchError } from '../../lib/avro-events';
import {
  decodeProductEvent,
  dlqTopic,
  EventDecodeError,
  headerStrings,
  messageEventId,
  type ProductEvent,
} from '../../lib/events';
import type { Failpoints } from '../../lib/failpoints';
import { counter, histogram } from '../../lib/metrics';
import { sleep } from '../../lib/wait';
import { schemaRegistryUrl } from '../../runtime/components/schema-registry';
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
export interface Delivery {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/** Per-message counters and the handling time, registered in `registry`. */
function deliveryMetrics(registry: Registry) {
  return {
    messages: counter(
      registry,
      'lab_consumer_messages_total',
      'Messages handled, by mode and result (applied|duplicate|dlq)',
      ['mode', 'result'],
    ),
    sideEffects: counter(
      registry,
      'lab_consumer_side_effects_total',
      'Side effects performed (ledger rows written)',
      ['mode'],
    ),
    duplicates: counter(
      registry,
      'lab_consumer_duplicates_skipped_total',
      'Redelivered events skipped thanks to processed_event',
      ['mode'],
    ),
    dlq: counter(
      registry,
      'lab_consumer_dlq_total',
      'Messages sent to the DLQ after their attempts ran out or a non-retriable error',
      ['mode'],
    ),
    retries: counter(
      registry,
      'lab_consumer_retries_total',
      'Retries of a failed attempt (attempt 2 and later)',
      ['mode'],
    ),
    duration: histogram(
      registry,
      'lab_consumer_process_duration_seconds',
      'Handling of one message, retries and offset commit included (idempotent: of the batch it was in)',
      ['mode'],
    ),
  };
}

/** Batch sizes and fallbacks, out-of-order versions and undecodable messages, registered in `registry`. */
function batchAndViewMetrics(registry: Registry) {
  return {
    batchSize: histogram(
      registry,
      'lab_consumer_batch_size',
      'idempotent: messages per DB transaction (one eachBatch chunk)',
      ['mode'],
      [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
    ),
    fallbacks: counter(
      registry,
      'lab_consumer_batch_fallbacks_total',
      'idempotent: batch transactions that failed and were redone message by message',
      ['mode'],
    ),
    olderVersions: counter(
      registry,
      'lab_consumer_view_older_versions_total',
      'Events older than the read-model row they met (published out of order, or redelivered): applied = the read model went backwards (CONSUMER_VIEW_ORDER=last-write), ignored = refused (versioned)',
      ['mode', 'outcome'],
    ),
    undecodable: counter(
      registry,
      'lab_consumer_deserialization_failures_total',
      'Messages sent to the DLQ because they could not be deserialized (bad JSON, or an Avro writer schema the reader schema cannot resolve)',
      ['mode', 'reader'],
    ),
  };
}

/** consumer-service's metrics, registered in `registry`. */
export function consumerMetrics(registry: Registry) {
  return { ...deliveryMetrics(registry), ...batchAndViewMetrics(registry) };
}
export type ConsumerMetrics = ReturnType<typeof consumerMetrics>;

/** The DLQ record for a delivery that failed: its key, value and headers, plus where it came from and why. */
export function dlqRecord({ topic, partition, message }: Delivery, err: Error, attempts: number) {
  const dedupKey = messageEventId(message) ?? `${topic}/${partition}/${message.offset}`;
  return {
    dedupKey,
    message: {
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
  };
}

/** Avro (Confluent framing) or JSON, told apart by the first byte. */
export type DecodeValue = (value: Buffer | null) => Promise<ProductEvent> | ProductEvent;

/** What the consumer's handlers work with; each part can be a fake in a unit test. */
export interface ConsumerDeps {
  cfg: ConsumerConfig;
  pool: Pool;
  consumer: Pick<Consumer, 'commitOffsets'>;
  dlqProducer: Pick<Producer, 'send'>;
  failpoints: Pick<Failpoints, 'hit'>;
  log: Pick<pino.Logger, 'warn'>;
  m: ConsumerMetrics;
  decode: DecodeValue;
}

/**
 * Consumes the domain topic with manual offset commits, so "which messages had their offset committed before/after
 * their effect" is deterministic — the whole point of the three modes. naive and commit-first go one message at a
 * time; idempotent a batch per transaction, which its dedup makes safe (docs/services.md, "crash mid-batch").
 */
export class ProductHandler {
  lastError: string | null = null;
  private readonly labels: { mode: ConsumerConfig['mode'] };
  private readonly viewOutcome: { mode: ConsumerConfig['mode']; outcome: string };

  constructor(private readonly d: ConsumerDeps) {
    const { cfg, m } = d;
    this.labels = { mode: cfg.mode };
    // Exported as 0 from the start (Prometheus' advice for a known label set): "no redelivery skipped" is a value,
    // and the dashboards' panel shows it instead of "no data".
    m.duplicates.inc(this.labels, 0);
    this.viewOutcome = {
      mode: cfg.mode,
      outcome: cfg.viewOrder === 'last-write' ? 'applied' : 'ignored',
    };
    m.olderVersions.inc(this.viewOutcome, 0); // exported from the start: a probe reading 0 has evidence, not "no data"
  }

  /** Applies through `apply`, then counts what it met, once its transaction committed (a failed attempt counts nothing). */
  async counted<T>(apply: (stats: ViewStats) => Promise<T>): Promise<T> {
    const stats: ViewStats = { olderVersions: 0 };
    const out = await apply(stats);
    if (stats.olderVersions) this.d.m.olderVersions.inc(this.viewOutcome, stats.olderVersions);
    return out;
  }

  commit(topic: string, partition: number, offset: string) {
    return this.d.consumer.commitOffsets([
      { topic, partition, offset: (BigInt(offset) + 1n).toString() },
    ]);
  }

  async toDlq(d: Delivery, err: Error, attempts: number) {
    const { dedupKey, message } = dlqRecord(d, err, attempts);
    await this.d.dlqProducer.send({
      topic: dlqTopic(this.d.cfg.topic),
      acks: -1,
      messages: [message],
    });
    this.d.m.dlq.inc(this.labels);
    this.d.log.warn(
      { partition: d.partition, offset: d.message.offset, dedupKey, attempts, err: err.message },
      'sent to DLQ',
    );
  }

  /** Tries `attempt` up to maxAttempts with exponential backoff; a non-retriable error goes to the DLQ at once. */
  async withRetry<T>(d: Delivery, attempt: () => Promise<T>): Promise<T | 'dlq'> {
    const { cfg, m } = this.d;
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (e) {
        this.lastError = (e as Error).message;
        if (!isRetriable(e) || n >= cfg.maxAttempts) {
          await this.toDlq(d, e as Error, n);
          if (e instanceof SchemaMismatchError || e instanceof EventDecodeError)
            m.undecodable.inc({ ...this.labels, reader: cfg.readerSchema });
          return 'dlq';
        }
        m.retries.inc(this.labels);
        await sleep(cfg.backoffMs * 2 ** (n - 1));
      }
    }
  }

  /**
   * Counts what happened to each message, then passes the failpoint once per event handled — applied, or skipped as
   * a duplicate (not for the DLQ): `crash@N` then counts the same deliveries whatever the mode, so naive and
   * idempotent meet the same number of crashes from one stream (E-003's two sides), redeliveries included.
   */
  async account(results: (ApplyResult | 'dlq')[]) {
    const { m } = this.d;
    const labels = this.labels;
    for (const result of results) {
      m.messages.inc({ ...labels, result });
      if (result === 'applied') m.sideEffects.inc(labels);
      if (result === 'duplicate') m.duplicates.inc(labels);
    }
    if (this.d.cfg.mode === 'commit-first') return;
    for (const result of results)
      if (result === 'applied' || result === 'duplicate')
        await this.d.failpoints.hit('consumer.after-side-effect-before-commit');
  }

  /** naive and commit-first: one message, one transaction, one offset commit — the shapes E-003/E-004 reproduce. */
  async eachMessage({ topic, partition, message }: EachMessagePayload) {
    const { cfg, pool, failpoints, decode } = this.d;
    const end = this.d.m.duration.startTimer(this.labels);
    if (cfg.mode === 'commit-first') await this.commit(topic, partition, message.offset);
    // commit-first passes it after its offset commit; naive at the same point of each delivery, with nothing committed.
    await failpoints.hit('consumer.after-commit-before-process');
    await this.account([
      await this.withRetry({ topic, partition, message }, async () => {
        const e = await decode(message.value);
        return this.counted((stats) => applyEvent(pool, cfg, e, stats));
      }),
    ]);
    if (cfg.mode !== 'commit-first') await this.commit(topic, partition, message.offset);
    end();
  }

  /**
   * idempotent: the messages of one partition in one DB transaction. Undecodable and poison messages are retried
   * and dead-lettered first, one by one; the rest go to applyBatch. If that transaction fails (a value the DB
   * rejects, a deadlock), the batch is redone message by message, so one bad event costs its own retries and
   * DLQ entry, not the batch. Offsets are committed only after all of it: a crash before leaves the transaction
   * committed and the offsets not, and the redelivered messages are then skipped as duplicates.
   */
  async applyChunk(topic: string, partition: number, messages: KafkaMessage[]) {
    // Once per delivery, where commit-first would have committed its offset: a crash here, with nothing committed,
    // redelivers the chunk (E-004's pattern side meets commit-first's crashes at the same counts).
    for (let k = 0; k < messages.length; k++)
      await this.d.failpoints.hit('consumer.after-commit-before-process');
    const deliveries = messages.map((message) => ({ topic, partition, message }));
    const events = await this.decodeChunk(deliveries);
    const results: (ApplyResult | 'dlq')[] = [];
    const ok = events.flatMap((e, i) => (e === 'dlq' ? [] : [{ e, i }]));
    try {
      const applied = await this.counted((stats) =>
        applyBatch(
          this.d.pool,
          this.d.cfg,
          ok.map((x) => x.e),
          stats,
        ),
      );
      ok.forEach((x, j) => (results[x.i] = applied[j]));
    } catch (e) {
      await this.applyOneByOne(e as Error, deliveries, ok, results);
    }
    events.forEach((e, i) => e === 'dlq' && (results[i] = 'dlq'));
    await this.account(results);
  }

  /** Decodes a chunk's messages and refuses its poison ones, each with its retries; 'dlq' for those dead-lettered. */
  private async decodeChunk(deliveries: Delivery[]): Promise<(ProductEvent | 'dlq')[]> {
    const events: (ProductEvent | 'dlq')[] = [];
    for (const d of deliveries) {
      events.push(
        await this.withRetry(d, async () => {
          const e = await this.d.decode(d.message.value);
          assertNotPoison(this.d.cfg, e);
          return e;
        }),
      );
    }
    return events;
  }

  /** The batch transaction failed (`err`): its events are applied one by one, each with its own retries. */
  private async applyOneByOne(
    err: Error,
    deliveries: Delivery[],
    ok: { e: ProductEvent; i: number }[],
    results: (ApplyResult | 'dlq')[],
  ) {
    const { cfg, pool, m } = this.d;
    this.lastError = err.message;
    m.fallbacks.inc(this.labels);
    this.d.log.warn(
      {
        partition: deliveries[0].partition,
        from: deliveries[0].message.offset,
        n: ok.length,
        err: this.lastError,
      },
      'batch transaction failed; applying its messages one by one',
    );
    for (const x of ok)
      results[x.i] = await this.withRetry(deliveries[x.i], () =>
        this.counted((stats) => applyEvent(pool, cfg, x.e, stats)),
      );
  }

  async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    const { cfg, m } = this.d;
    const { topic, partition } = batch;
    for (let i = 0; i < batch.messages.length && isRunning() && !isStale(); i += cfg.batchSize) {
      const chunk = batch.messages.slice(i, i + cfg.batchSize);
      const t0 = process.hrtime.bigint();
      await this.applyChunk(topic, partition, chunk);
      const last = chunk[chunk.length - 1].offset;
      await this.commit(topic, partition, last);
      resolveOffset(last);
      // Each message of the chunk took the chunk's time, from the start of its transaction to its offset commit.
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      for (let k = 0; k < chunk.length; k++) m.duration.observe(this.labels, secs);
      m.batchSize.observe(this.labels, chunk.length);
      await heartbeat();
    }
  }
}

/** Subscribes and runs `handler` on the consumer: a batch at a time (idempotent) or a message at a time. */
async function runConsumer(
  cfg: ConsumerConfig,
  log: pino.Logger,
  consumer: Consumer,
  handler: ProductHandler,
  onAssigned: (assignment: unknown) => void,
) {
  consumer.on(consumer.events.GROUP_JOIN, (e) => onAssigned(e.payload.memberAssignment));
  // kafkajs gives up on some errors without restarting; exit so `chaos services status` shows it dead.
  consumer.on(consumer.events.CRASH, (e) => {
    log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    if (!e.payload.restart) process.exit(3);
  });
  await consumer.subscribe({ topic: cfg.topic, fromBeginning: true });
  // If eachMessage/eachBatch throws (e.g. DLQ unreachable) kafkajs retries from the last resolved offset: nothing is skipped.
  if (cfg.mode === 'idempotent')
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (p) => handler.eachBatch(p),
    });
  else await consumer.run({ autoCommit: false, eachMessage: (p) => handler.eachMessage(p) });
}

export function productConsumer(
  cfg: ConsumerConfig,
  ctx: ServiceContext,
  pool: Pool,
  consumer: Consumer,
  dlqProducer: Producer,
) {
  const m = consumerMetrics(ctx.registry);
  const avro = avroEventDecoder(schemaRegistryUrl(cfg.lab), cfg.lab.root, cfg.readerSchema);
  /** Avro (Confluent framing) or JSON, told apart by the first byte. */
  const decode: DecodeValue = (value) =>
    isConfluentFramed(value) ? avro.decode(value) : decodeProductEvent(value);
  const { failpoints, log } = ctx;
  const handler = new ProductHandler({
    cfg,
    pool,
    consumer,
    dlqProducer,
    failpoints,
    log,
    m,
    decode,
  });
  let assigned: unknown = null;
  return {
    start: () => runConsumer(cfg, ctx.log, consumer, handler, (a) => (assigned = a)),
    health: async () => ({
      mode: cfg.mode,
      group: cfg.group,
      topic: cfg.topic,
      poison: [...cfg.poison],
      maxAttempts: cfg.maxAttempts,
      batchSize: cfg.mode === 'idempotent' ? cfg.batchSize : 1,
      readerSchema: cfg.readerSchema,
      assigned,
      lastError: handler.lastError,
    }),
  };
}
