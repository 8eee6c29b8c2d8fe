import { z } from 'zod';
import { ConfigError } from '../../lib/errors';
import { loadConfig, type LabConfig } from '../../lib/config';
import { DEFAULT_TOPIC } from '../../lib/events';

/**
 * query-service configuration: read from env once, validated once, at start. A bad value (an unknown mode, a
 * soft TTL that outlives the hard TTL) fails here naming the variable and the valid choices — not on the first
 * request in the middle of an experiment.
 */

export const INVALIDATION_MODES = ['del', 'versioned'] as const;
export type InvalidationMode = (typeof INVALIDATION_MODES)[number];
export const STAMPEDE_MODES = ['none', 'singleflight', 'soft-ttl'] as const;
export type StampedeMode = (typeof STAMPEDE_MODES)[number];
/** `cluster` needs `chaos up --redis cluster`: the service then talks to the 6-node cluster through its proxies. */
export const REDIS_MODES = ['standalone', 'cluster'] as const;
export type RedisMode = (typeof REDIS_MODES)[number];

/** Which env variable feeds which field: errors name the variable an operator has to fix. */
export const ENV_VARS = {
  instance: 'SERVICE_INSTANCE',
  port: 'LAB_QUERY_SERVICE_PORT',
  topic: 'LAB_TOPIC',
  group: 'LAB_QUERY_GROUP',
  fromBeginning: 'LAB_QUERY_FROM_BEGINNING',
  cacheTtlMs: 'CACHE_TTL_MS',
  cacheTtlJitter: 'CACHE_TTL_JITTER',
  softTtlMs: 'SOFT_TTL_MS',
  invalidation: 'CACHE_INVALIDATION',
  stampede: 'STAMPEDE',
  xfetchBeta: 'XFETCH_BETA',
  lockTtlMs: 'STAMPEDE_LOCK_TTL_MS',
  lockWaitMs: 'STAMPEDE_LOCK_WAIT_MS',
  lockPollMs: 'STAMPEDE_POLL_MS',
  keyPrefix: 'QUERY_CACHE_PREFIX',
  redisMode: 'REDIS_MODE',
} as const;
type Field = keyof typeof ENV_VARS;
/**
 * The variables an experiment's `services.query-service[-2].env` may set: all of ENV_VARS but the instance and its
 * port, which the runtime derives from the process name (query-service-2) and must stay in step with Prometheus.
 */
export const QUERY_SETTINGS = Object.entries(ENV_VARS)
  .filter(([f]) => f !== 'instance' && f !== 'port')
  .map(([, v]) => v);

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** zod's own enum message does not say which modes exist; ours lists them, so the fix is in the error. */
const modeEnum = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values as unknown as [T[number], ...T[number][]], {
    errorMap: () => ({ message: `unknown mode; valid: ${values.join(', ')}` }),
  });
const bool = z
  .string()
  .transform((v) => v.toLowerCase())
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), {
    message: 'expected true or false',
  })
  .transform((v) => ['true', '1', 'yes'].includes(v));

export const QueryConfigSchema = z
  .object({
    instance: int(1, 99),
    port: int(1024, 65535),
    topic: z
      .string()
      .min(1)
      .regex(/^[\w.-]+$/, 'Kafka topic names allow letters, digits, ".", "_" and "-"'),
    group: z.string().min(1),
    fromBeginning: bool,
    cacheTtlMs: int(10, 86_400_000),
    /** Fraction of the TTL added or removed at random, so keys filled together do not all expire together. */
    cacheTtlJitter: z.coerce.number().min(0).max(0.9),
    softTtlMs: int(1, 86_400_000),
    invalidation: modeEnum(INVALIDATION_MODES),
    stampede: modeEnum(STAMPEDE_MODES),
    redisMode: modeEnum(REDIS_MODES),
    /** XFetch β (Vattani et al., VLDB 2015): 0 turns early refresh off; 1 is the paper's default; >1 refreshes earlier. */
    xfetchBeta: z.coerce.number().min(0).max(100),
    /** The Redis lock outlives a normal DB load, else a second instance may load too (the ≤2 in the tests). */
    lockTtlMs: int(50, 60_000),
    /** How long a caller that lost the lock polls before it gives up and loads the DB itself (bounded wait). */
    lockWaitMs: int(0, 60_000),
    lockPollMs: int(1, 1000),
    /** Every key this service writes starts with this; /cache/flush deletes exactly this prefix. */
    keyPrefix: z
      .string()
      .regex(
        /^lab:[\w:.-]*$/,
        'must start with "lab:" so a flush cannot touch keys outside the lab',
      ),
  })
  .superRefine((c, ctx) => {
    // soft-ttl only makes sense when the stale copy is still in Redis after the soft expiry: the shortest
    // jittered hard TTL must outlast the longest jittered soft TTL.
    if (
      c.stampede === 'soft-ttl' &&
      c.softTtlMs * (1 + c.cacheTtlJitter) >= c.cacheTtlMs * (1 - c.cacheTtlJitter)
    ) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['softTtlMs'],
        message: `must be shorter than CACHE_TTL_MS=${c.cacheTtlMs} even with CACHE_TTL_JITTER=${c.cacheTtlJitter} applied to both`,
      });
    }
  });
export type QueryConfig = z.infer<typeof QueryConfigSchema> & {
  lab: Pick<LabConfig, 'host' | 'ports' | 'brokerCount'>;
};

/** An empty variable counts as unset, so `STAMPEDE= node …` means the default rather than an error. */
const envOf = (env: NodeJS.ProcessEnv, name: string) =>
  env[name] === undefined || env[name] === '' ? undefined : env[name];

export function loadQueryConfig(
  env: NodeJS.ProcessEnv = process.env,
  lab: Pick<LabConfig, 'host' | 'ports' | 'brokerCount'> = loadConfig(env),
): QueryConfig {
  const get = (f: Field) => envOf(env, ENV_VARS[f]);
  // src/runtime/services.ts names a second copy "query-service-2" (LAB_SERVICE_NAME) and may not set
  // SERVICE_INSTANCE; without this fallback both copies would be instance 1 and share one consumer group, so
  // each would see only some partitions' invalidations.
  const instanceRaw =
    get('instance') ??
    /^query-service-(\d+)$/.exec(envOf(env, 'LAB_SERVICE_NAME') ?? '')?.[1] ??
    '1';
  const instance = Number(instanceRaw);
  const ttl = Number(get('cacheTtlMs') ?? 30_000);
  const raw: Record<Field, unknown> = {
    instance: instanceRaw,
    // Instance 2 listens on the query-service-2 port (the Prometheus target): LAB_QUERY_SERVICE_2_PORT when set
    // (that is what services.ts sets for "query-service-2"), else LAB_QUERY_SERVICE_PORT, else 18085.
    port:
      (instance === 2 ? envOf(env, 'LAB_QUERY_SERVICE_2_PORT') : undefined) ??
      get('port') ??
      (instance === 2 ? lab.ports.queryService2 : lab.ports.queryService),
    topic: get('topic') ?? DEFAULT_TOPIC,
    // Each instance its own group: every instance must see every change event.
    group: get('group') ?? `lab-query-${instanceRaw}`,
    // A new group reads the topic from the start: replayed invalidations are idempotent (DEL; set-if-greater),
    // while starting at "latest" can miss an event produced while the consumer was still joining.
    fromBeginning: get('fromBeginning') ?? 'true',
    cacheTtlMs: get('cacheTtlMs') ?? 30_000,
    cacheTtlJitter: get('cacheTtlJitter') ?? 0.1,
    softTtlMs:
      get('softTtlMs') ?? (Number.isFinite(ttl) ? Math.max(1, Math.floor(ttl / 2)) : 15_000),
    invalidation: get('invalidation') ?? 'del',
    stampede: get('stampede') ?? 'none',
    redisMode: get('redisMode') ?? 'standalone',
    xfetchBeta: get('xfetchBeta') ?? 0,
    lockTtlMs: get('lockTtlMs') ?? 3000,
    lockWaitMs: get('lockWaitMs') ?? 3000,
    lockPollMs: get('lockPollMs') ?? 10,
    keyPrefix: get('keyPrefix') ?? 'lab:query:',
  };
  const parsed = QueryConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const f = i.path[0] as Field;
      const name = ENV_VARS[f] ?? String(f);
      return `${name}=${JSON.stringify(String(raw[f]))} is invalid: ${i.message}`;
    });
    throw new ConfigError(`query-service config:\n  ${problems.join('\n  ')}`);
  }
  return { ...parsed.data, lab };
}

/** What /health and /cache/stats report, so a run's output records the modes it was measured under. */
export const describeModes = (c: QueryConfig) => ({
  instance: c.instance,
  redisMode: c.redisMode,
  invalidation: c.invalidation,
  stampede: c.stampede,
  cacheTtlMs: c.cacheTtlMs,
  cacheTtlJitter: c.cacheTtlJitter,
  ...(c.stampede === 'soft-ttl' ? { softTtlMs: c.softTtlMs, xfetchBeta: c.xfetchBeta } : {}),
  ...(c.stampede !== 'none' ? { lockTtlMs: c.lockTtlMs, lockWaitMs: c.lockWaitMs } : {}),
  topic: c.topic,
  group: c.group,
  keyPrefix: c.keyPrefix,
});
