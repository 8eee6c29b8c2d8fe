import type Redis from 'ioredis';
import { sleep } from '../../../lib/wait';
import { keys, type Entry } from '../../../services/query/cache';

/**
 * Expiry made deterministic: the scenario expires the hot keys itself at the start of each round instead of
 * waiting for their (jittered) TTLs, so every mode gets exactly `rounds` expiries per key, all at the same instant.
 */

/** Hard expiry: the value key is gone — exactly what Redis does when its PX TTL runs out. */
export async function hardExpire(redis: Redis, prefix: string, ids: number[]): Promise<void> {
  const k = keys(prefix);
  await redis.del(...ids.map((id) => k.value(String(id))));
}

/** Soft expiry: the entry stays, its logical expiry moves into the past — what waiting SOFT_TTL_MS would do. */
export async function softExpire(redis: Redis, prefix: string, ids: number[]): Promise<void> {
  const k = keys(prefix);
  for (const id of ids) {
    const key = k.value(String(id));
    const [raw, ttl] = await Promise.all([redis.get(key), redis.pttl(key)]);
    if (!raw || ttl <= 0)
      throw new Error(
        `${key} is not cached, so it cannot be soft-expired (was the warm-up answered from the DB?)`,
      );
    await redis.set(
      key,
      JSON.stringify({ ...(JSON.parse(raw) as Entry), softExpiresAt: Date.now() - 1 }),
      'PX',
      ttl,
    );
  }
}

/** Waits until each key holds an entry filled after `sinceMs` (the background refresh landed); false on timeout. */
export async function waitFilledSince(
  redis: Redis,
  prefix: string,
  ids: number[],
  sinceMs: number,
  timeoutMs: number,
): Promise<boolean> {
  const k = keys(prefix);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const raws = await redis.mget(...ids.map((id) => k.value(String(id))));
    if (raws.every((r) => r && (JSON.parse(r) as Entry).filledAt >= sinceMs)) return true;
    await sleep(50);
  }
  return false;
}
