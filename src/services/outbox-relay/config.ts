import { portEnvVar } from '../../lib/config';
import { z } from 'zod';
import { WRITER_SCHEMAS } from '../../lib/avro-events';
import { parseServiceEnv, topicSchema } from '../common/env';

/**
 * RELAY_SHARD=i/n: this relay claims only outbox rows with aggregate_id % n = i. Every key then has exactly one
 * relay, so running n relays cannot reorder a product's events. Two relays on the SAME shard can: SKIP LOCKED lets
 * the second take later rows of a key while the first still holds earlier ones.
 */
export const shardSchema = z
  .string()
  .regex(/^\d+\/\d+$/, 'expected i/n, e.g. 0/2')
  .default('0/1')
  .transform((s) => {
    const [index, count] = s.split('/').map(Number);
    return { index, count };
  })
  .refine((s) => s.count >= 1 && s.index < s.count, 'need 0 <= i < n');

/** The relay's defaults, also the "default" setting the benchmark reports. */
export const RELAY_DEFAULTS = { batchSize: 500, pollMs: 10 } as const;

/** outbox-relay's settings: env variable → its schema. */
const RELAY_ENV = {
  LAB_TOPIC: topicSchema,
  // 500: the best batch of `npm run bench` in every run (bench/RESULTS.md). Poll 10 vs 50 ms is noise on a backlog
  // (a full batch goes again at once) but half the poll interval is e2e latency: 50 ms gave an e2e p99 of 114 ms,
  // 10 ms 40 ms. An idle poll is one indexed SELECT without a transaction (claim's probe), 100/s.
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(RELAY_DEFAULTS.batchSize),
  RELAY_POLL_MS: z.coerce.number().int().min(1).max(60_000).default(RELAY_DEFAULTS.pollMs),
  RELAY_SHARD: shardSchema,
  // While a batch is in flight to Kafka, mark the one before and claim the one after (sends stay in outbox order).
  // On by default: it only acts on a full batch (a backlog), so an idle relay's latency is the same; on a backlog
  // the DB's claim, mark and fsync overlap the produce (bench/RESULTS.md, docs/services.md).
  RELAY_PIPELINE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  // json: the outbox payload as is. avro: Confluent wire format, EVENT_SCHEMA registered in the schema registry.
  EVENT_ENCODING: z.enum(['json', 'avro']).default('json'),
  EVENT_SCHEMA: z.enum(WRITER_SCHEMAS).default('v1'),
};
/** The variables outbox-relay reads (an experiment's `services.outbox-relay.env` may set only these). */
export const RELAY_SETTINGS = Object.keys(RELAY_ENV) as (keyof typeof RELAY_ENV)[];

export function loadRelayConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseServiceEnv('outbox-relay', RELAY_ENV, env);
  // The second relay (E-011, started as `outbox-relay-2`) has its own port and Prometheus target; a copy started as
  // an instance of outbox-relay gets LAB_OUTBOX_RELAY_PORT instead.
  const second = env.LAB_SERVICE_NAME === 'outbox-relay-2' && !!env[portEnvVar('outboxRelay2')];
  return {
    name: env.LAB_SERVICE_NAME === 'outbox-relay-2' ? 'outbox-relay-2' : 'outbox-relay',
    lab: c.lab,
    topic: c.LAB_TOPIC,
    batchSize: c.RELAY_BATCH_SIZE,
    pollMs: c.RELAY_POLL_MS,
    shard: c.RELAY_SHARD,
    pipeline: c.RELAY_PIPELINE,
    port: second ? c.lab.ports.outboxRelay2 : c.lab.ports.outboxRelay,
    encoding: c.EVENT_ENCODING,
    schema: c.EVENT_SCHEMA,
  };
}
export type RelayConfig = ReturnType<typeof loadRelayConfig>;
