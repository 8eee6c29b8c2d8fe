import type { Cluster } from 'ioredis';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { InvalidationMode, QueryConfig } from './config';
import type { Product } from './repository';

/**
 * What sits in Redis for one product. `softExpiresAt` is the logical expiry soft-ttl uses (the Redis TTL is the
 * hard one); `deltaMs` is how long the load that produced it took, which XFetch needs to refresh early enough.
 */
export interface Entry {
  product: Product;
  version: number;
  filledAt: number;
  softExpiresAt: number;
  deltaMs: number;
}

export interface ReadResult {
  entry: Entry | null;
  /** versioned: the version the pointer names even if its value key is gone — a load older than this is stale. */
  knownVersion?: number;
}

/** The one Redis (REDIS_MODE=standalone) or the lab's Redis Cluster (REDIS_MODE=cluster): same commands. */
export type RedisClient = Redis | Cluster;

/**
 * Key layout. Everything under one prefix so /cache/flush can delete the lab's keys and nothing else. Every key of
 * a product carries the hash tag {product:<id>}: on a Redis Cluster only the tag is hashed, so a product's value,
 * pointer, versions and lock share one slot and the scripts over two of them (FILL_LUA) do not fail with CROSSSLOT.
 * On one Redis the braces are just characters.
 */
export const keys = (prefix: string) => ({
  value: (id: string) => `${prefix}{product:${id}}`,
  pointer: (id: string) => `${prefix}{product:${id}}:ver`,
  versioned: (id: string, v: number | string) => `${prefix}{product:${id}}:v${v}`,
  lock: (id: string) => `${prefix}lock:{product:${id}}`,
});

/**
 * One jitter factor per fill, applied to both TTLs: keys filled in the same burst then expire spread over
 * ±jitter instead of all at once (which would be a synchronised stampede of their own), and the soft expiry
 * keeps its place before the hard one.
 */
export function expiries(
  cfg: Pick<QueryConfig, 'cacheTtlMs' | 'cacheTtlJitter' | 'softTtlMs' | 'stampede'>,
  now: number,
  rand = Math.random,
) {
  const f = 1 + cfg.cacheTtlJitter * (2 * rand() - 1);
  const hardTtlMs = Math.max(1, Math.round(cfg.cacheTtlMs * f));
  const softTtlMs =
    cfg.stampede === 'soft-ttl' ? Math.max(1, Math.round(cfg.softTtlMs * f)) : hardTtlMs;
  return { hardTtlMs, softExpiresAt: now + softTtlMs };
}

/**
 * How entries are stored and invalidated — the CACHE_INVALIDATION mode. `fill` returns false when the store
 * refused the write because it already knows a newer version.
 */
export interface CacheStore {
  readonly mode: InvalidationMode;
  read(id: string): Promise<ReadResult>;
  fill(id: string, entry: Entry, hardTtlMs: number): Promise<boolean>;
  /** Applies a change event; returns whether anything changed (versioned ignores an older/equal version). */
  invalidate(id: string, version: number): Promise<boolean>;
}

const parse = (raw: string | null): Entry | null => (raw ? (JSON.parse(raw) as Entry) : null);

/**
 * `del`: one key per product, an event deletes it. Simple, and it has the classic race on purpose: a reader that
 * loaded the old row before the update but fills after the DEL puts the old value back until the TTL ends.
 */
export class DelStore implements CacheStore {
  readonly mode = 'del' as const;
  private readonly k;
  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.k = keys(prefix);
  }
  async read(id: string): Promise<ReadResult> {
    return { entry: parse(await this.redis.get(this.k.value(id))) };
  }
  async fill(id: string, entry: Entry, hardTtlMs: number): Promise<boolean> {
    await this.redis.set(this.k.value(id), JSON.stringify(entry), 'PX', hardTtlMs);
    return true;
  }
  async invalidate(id: string): Promise<boolean> {
    await this.redis.del(this.k.value(id));
    return true;
  }
}

// KEYS[1]=pointer KEYS[2]=value key for ARGV[1]; ARGV: version, payload, value ttl, pointer ttl.
// A fill older than the pointer is refused: the event for a newer version already passed, so this load is stale.
const FILL_LUA = `
local cur = tonumber(redis.call('GET', KEYS[1]))
local v = tonumber(ARGV[1])
if cur and v < cur then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
if (not cur) or v > cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4]) else redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`;
// KEYS[1]=pointer; ARGV: version, pointer ttl. Only moves forward: a late or replayed event cannot roll it back.
const BUMP_LUA = `
local cur = tonumber(redis.call('GET', KEYS[1]))
local v = tonumber(ARGV[1])
if cur and v <= cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/**
 * `versioned`: a small pointer {product:<id>}:ver → version and immutable value keys {product:<id>}:v<version>.
 * An event moves the pointer forward (never back); a fill writes only if its version is not older than the
 * pointer. So a slow reader holding an old row cannot overwrite what the event made current, and readers never
 * see an older version once the pointer moved. Old value keys are not deleted; they expire with their TTL.
 */
export class VersionedStore implements CacheStore {
  readonly mode = 'versioned' as const;
  private readonly k;
  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly pointerTtlMs: number,
  ) {
    this.k = keys(prefix);
  }
  async read(id: string): Promise<ReadResult> {
    const ptr = await this.redis.get(this.k.pointer(id));
    if (ptr === null) return { entry: null };
    const knownVersion = Number(ptr);
    return { entry: parse(await this.redis.get(this.k.versioned(id, knownVersion))), knownVersion };
  }
  async fill(id: string, entry: Entry, hardTtlMs: number): Promise<boolean> {
    const ok = await this.redis.eval(
      FILL_LUA,
      2,
      this.k.pointer(id),
      this.k.versioned(id, entry.version),
      entry.version,
      JSON.stringify(entry),
      hardTtlMs,
      Math.max(this.pointerTtlMs, hardTtlMs),
    );
    return ok === 1;
  }
  async invalidate(id: string, version: number): Promise<boolean> {
    return (
      (await this.redis.eval(BUMP_LUA, 1, this.k.pointer(id), version, this.pointerTtlMs)) === 1
    );
  }
}

export function cacheStore(
  redis: RedisClient,
  cfg: Pick<QueryConfig, 'invalidation' | 'keyPrefix' | 'cacheTtlMs'>,
): CacheStore {
  // The pointer outlives any value key by a margin: while it exists, stale fills are refused.
  return cfg.invalidation === 'versioned'
    ? new VersionedStore(redis, cfg.keyPrefix, 2 * cfg.cacheTtlMs)
    : new DelStore(redis, cfg.keyPrefix);
}

// Delete the lock only if it is still ours: after our TTL ran out another caller may hold it.
const UNLOCK_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * The short Redis lock that makes "one DB load per key per expiry" hold across instances, not just inside one
 * process. It expires by itself (PX) so a crashed holder blocks others for at most its TTL; a live holder renews
 * it while its load runs (`hold`), because a DB slower than the TTL would otherwise let a second loader in —
 * measured: with a 3 s load and a 3 s lock, soft-ttl ran 2 refreshes instead of 1.
 */
export class FillLock {
  private readonly k;
  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    private readonly ttlMs: number,
  ) {
    this.k = keys(prefix);
  }
  async acquire(id: string): Promise<string | null> {
    const token = randomUUID();
    return (await this.redis.set(this.k.lock(id), token, 'PX', this.ttlMs, 'NX')) === 'OK'
      ? token
      : null;
  }
  /** Runs `fn` while renewing our lock every ttl/3; releases it after. */
  async hold<T>(id: string, token: string, fn: () => Promise<T>): Promise<T> {
    const timer = setInterval(
      () => {
        this.redis.eval(RENEW_LUA, 1, this.k.lock(id), token, this.ttlMs).catch(() => {}); // a missed renewal only risks a 2nd load
      },
      Math.max(10, Math.floor(this.ttlMs / 3)),
    );
    try {
      return await fn();
    } finally {
      clearInterval(timer);
      await this.release(id, token).catch(() => {}); // it expires anyway
    }
  }
  async held(id: string): Promise<boolean> {
    return (await this.redis.exists(this.k.lock(id))) === 1;
  }
  async release(id: string, token: string): Promise<void> {
    await this.redis.eval(UNLOCK_LUA, 1, this.k.lock(id), token);
  }
}

/**
 * Deletes every key under the prefix (SCAN, not KEYS: KEYS blocks Redis for the whole keyspace walk). On a cluster
 * each master is scanned for its own keys, and keys are unlinked one by one: one UNLINK over keys of several
 * slots would fail with CROSSSLOT.
 */
export async function flushPrefix(redis: RedisClient, prefix: string): Promise<number> {
  if (!('nodes' in redis)) return flushNode(redis, prefix, (batch) => redis.unlink(...batch));
  let deleted = 0;
  for (const node of redis.nodes('master'))
    deleted += await flushNode(node, prefix, async (batch) => {
      const res = await Promise.all(batch.map((k) => redis.unlink(k)));
      return res.reduce((a, b) => a + b, 0);
    });
  return deleted;
}

async function flushNode(
  node: Redis,
  prefix: string,
  unlink: (batch: string[]) => Promise<number>,
) {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (batch.length) deleted += await unlink(batch);
  } while (cursor !== '0');
  return deleted;
}
