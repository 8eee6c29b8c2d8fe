import type { Consumer, EachMessagePayload, Producer } from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import { avroEventDecoder, isConfluentFramed, SchemaMismatchError } from '../../lib/avro-events';
import { decodeProductEvent, dlqTopic, EventDecodeError, headerStrings, messageEventId, type ProductEvent } from '../../lib/events';
import { schemaRegistryUrl } from '../../runtime/components/schema-registry';
import { counter, histogram } from '../../lib/metrics';
import { sleep } from '../../lib/wait';
import type { ServiceContext } from '../common/app';
import { applyEvent, isRetriable, type ApplyResult } from './apply';
import type { ConsumerConfig } from './config';

/** Headers a DLQ record carries so replay can restore it and an operator can see why it failed. */
export const DLQ_HEADERS = ['original-topic', 'original-partition', 'original-offset', 'error', 'attempts', 'dedup-key'] as const;

/**
 * Consumes the domain topic one message at a time with manual offset commits, so "which messages had their offset
 * committed before/after their effect" is deterministic — the whole point of the three modes.
 */
export function productConsumer(cfg: ConsumerConfig, ctx: ServiceContext, pool: Pool, consumer: Consumer, dlqProducer: Producer) {
  const labels = { mode: cfg.mode };
  const m = {
    messages: counter(ctx.registry, 'lab_consumer_messages_total', 'Messages handled, by mode and result (applied|duplicate|dlq)', ['mode', 'result']),
    sideEffects: counter(ctx.registry, 'lab_consumer_side_effects_total', 'Side effects performed (ledger rows written)', ['mode']),
    duplicates: counter(ctx.registry, 'lab_consumer_duplicates_skipped_total', 'Redelivered events skipped thanks to processed_event', ['mode']),
    dlq: counter(ctx.registry, 'lab_consumer_dlq_total', 'Messages sent to the DLQ after their attempts ran out or a non-retriable error', ['mode']),
    retries: counter(ctx.registry, 'lab_consumer_retries_total', 'Retries of a failed attempt (attempt 2 and later)', ['mode']),
    duration: histogram(ctx.registry, 'lab_consumer_process_duration_seconds', 'Handling of one message, retries and offset commit included', ['mode']),
    undecodable: counter(ctx.registry, 'lab_consumer_deserialization_failures_total', 'Messages sent to the DLQ because they could not be deserialized (bad JSON, or an Avro writer schema the reader schema cannot resolve)', ['mode', 'reader']),
  };
  const avro = avroEventDecoder(schemaRegistryUrl(cfg.lab), cfg.lab.root, cfg.readerSchema);
  /** Avro (Confluent framing) or JSON, told apart by the first byte. */
  const decode = (value: Buffer | null): Promise<ProductEvent> | ProductEvent => (isConfluentFramed(value) ? avro.decode(value) : decodeProductEvent(value));
  let assigned: unknown = null;
  let lastError: string | null = null;

  const commit = ({ topic, partition, message }: EachMessagePayload) =>
    consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);

  async function toDlq(p: EachMessagePayload, err: Error, attempts: number) {
    const { topic, partition, message } = p;
    const dedupKey = messageEventId(message) ?? `${topic}/${partition}/${message.offset}`;
    await dlqProducer.send({
      topic: dlqTopic(cfg.topic),
      acks: -1,
      messages: [{
        key: message.key,
        value: message.value,
        headers: { ...headerStrings(message.headers), 'original-topic': topic, 'original-partition': String(partition), 'original-offset': message.offset, error: err.message.slice(0, 1000), attempts: String(attempts), 'dedup-key': dedupKey },
      }],
    });
    m.dlq.inc(labels);
    ctx.log.warn({ partition, offset: message.offset, dedupKey, attempts, err: err.message }, 'sent to DLQ');
  }

  /** Tries up to maxAttempts with exponential backoff; a non-retriable error goes to the DLQ at once. */
  async function processWithRetry(p: EachMessagePayload): Promise<ApplyResult | 'dlq'> {
    for (let attempt = 1; ; attempt++) {
      try {
        const event = await decode(p.message.value);
        return await applyEvent(pool, cfg, event);
      } catch (e) {
        lastError = (e as Error).message;
        if (!isRetriable(e) || attempt >= cfg.maxAttempts) {
          await toDlq(p, e as Error, attempt);
          if (e instanceof SchemaMismatchError || e instanceof EventDecodeError) m.undecodable.inc({ ...labels, reader: cfg.readerSchema });
          return 'dlq';
        }
        m.retries.inc(labels);
        await sleep(cfg.backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  async function eachMessage(p: EachMessagePayload) {
    const end = m.duration.startTimer(labels);
    if (cfg.mode === 'commit-first') {
      await commit(p);
      await ctx.failpoints.hit('consumer.after-commit-before-process');
    }
    const result = await processWithRetry(p);
    m.messages.inc({ ...labels, result });
    if (result === 'applied') m.sideEffects.inc(labels);
    if (result === 'duplicate') m.duplicates.inc(labels);
    if (cfg.mode !== 'commit-first') {
      if (result === 'applied') await ctx.failpoints.hit('consumer.after-side-effect-before-commit');
      await commit(p);
    }
    end();
  }

  return {
    async start() {
      consumer.on(consumer.events.GROUP_JOIN, (e) => (assigned = e.payload.memberAssignment));
      // kafkajs gives up on some errors without restarting; exit so `chaos services status` shows it dead.
      consumer.on(consumer.events.CRASH, (e) => {
        ctx.log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
        if (!e.payload.restart) process.exit(3);
      });
      await consumer.subscribe({ topic: cfg.topic, fromBeginning: true });
      // If eachMessage throws (e.g. DLQ unreachable) kafkajs retries the same offset: nothing is skipped.
      await consumer.run({ autoCommit: false, eachMessage });
    },
    health: async () => ({ mode: cfg.mode, group: cfg.group, topic: cfg.topic, poison: [...cfg.poison], maxAttempts: cfg.maxAttempts, readerSchema: cfg.readerSchema, assigned, lastError }),
  };
}
