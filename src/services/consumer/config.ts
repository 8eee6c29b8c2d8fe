import { z } from 'zod';
import { READER_SCHEMAS, type ReaderSchema } from '../../lib/avro-events';
import { parseServiceEnv, topicSchema } from '../common/env';

/**
 * idempotent: a batch of messages (kafkajs eachBatch) in one transaction — processed_event + side effects + read
 * model for the events not processed before — then commit the batch's offsets (exactly-once effects). naive: same without the dedup row (duplicates on redelivery). commit-first: commit the offset, then
 * process (at-most-once: a crash in between loses the event).
 */
export const CONSUMER_MODES = ['idempotent', 'naive', 'commit-first'] as const;
export type ConsumerMode = (typeof CONSUMER_MODES)[number];
/**
 * How the read model takes an event's version. versioned: only forward — an older version than the row's is ignored,
 * whatever order events arrive in. last-write: whatever arrives last wins, so an event published out of order
 * (E-011: two relays racing one product's rows) moves the read model backwards.
 */
export const VIEW_ORDERS = ['versioned', 'last-write'] as const;
export type ViewOrder = (typeof VIEW_ORDERS)[number];

/** "12, 13,abc" → ['12','13','abc']; product ids or event ids whose processing throws a non-retriable error. */
const listSchema = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** consumer-service's settings: env variable → its schema. */
const CONSUMER_ENV = {
  LAB_TOPIC: topicSchema,
  LAB_CONSUMER_GROUP: z.string().min(1).max(200).default('lab-consumer'),
  CONSUMER_MODE: z.enum(CONSUMER_MODES).default('idempotent'),
  CONSUMER_VIEW_ORDER: z.enum(VIEW_ORDERS).default('versioned'),
  CONSUMER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  CONSUMER_RETRY_BACKOFF_MS: z.coerce.number().int().min(0).max(60_000).default(100),
  CONSUMER_POISON: listSchema,
  // idempotent mode: most messages applied in one DB transaction (and one offset commit). A fetch holds up to
  // 1 MB per partition; it is cut into transactions of this many messages, with a heartbeat between them.
  CONSUMER_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  // The Avro reader schema this consumer build understands (Avro events only; JSON events need none).
  CONSUMER_SCHEMA: z
    .enum(Object.keys(READER_SCHEMAS) as [ReaderSchema, ...ReaderSchema[]])
    .default('v1'),
};
/** The variables consumer-service reads (an experiment's `services.consumer-service.env` may set only these). */
export const CONSUMER_SETTINGS = Object.keys(CONSUMER_ENV) as (keyof typeof CONSUMER_ENV)[];

export function loadConsumerConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseServiceEnv('consumer-service', CONSUMER_ENV, env);
  return {
    lab: c.lab,
    topic: c.LAB_TOPIC,
    group: c.LAB_CONSUMER_GROUP,
    mode: c.CONSUMER_MODE,
    viewOrder: c.CONSUMER_VIEW_ORDER,
    maxAttempts: c.CONSUMER_MAX_ATTEMPTS,
    backoffMs: c.CONSUMER_RETRY_BACKOFF_MS,
    batchSize: c.CONSUMER_BATCH_SIZE,
    poison: new Set(c.CONSUMER_POISON),
    readerSchema: c.CONSUMER_SCHEMA,
    port: c.lab.ports.consumerService,
  };
}
export type ConsumerConfig = ReturnType<typeof loadConsumerConfig>;
