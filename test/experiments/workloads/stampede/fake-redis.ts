import type Redis from 'ioredis';

/** The few Redis calls the stampede expiry makes (get, pttl, set … PX, del, mget), on a Map. */
export function fakeRedis(entries: Record<string, string> = {}) {
  const store = new Map(Object.entries(entries));
  const ttl = new Map<string, number>([...store.keys()].map((k) => [k, 60_000]));
  const calls: string[] = [];
  const redis = {
    get: async (k: string) => (calls.push(`get ${k}`), store.get(k) ?? null),
    pttl: async (k: string) => (calls.push(`pttl ${k}`), store.has(k) ? (ttl.get(k) ?? -1) : -2),
    set: async (k: string, v: string, _px: 'PX', ms: number) => {
      calls.push(`set ${k}`);
      store.set(k, v);
      ttl.set(k, ms);
      return 'OK';
    },
    del: async (...ks: string[]) => {
      calls.push(`del ${ks.join(' ')}`);
      let n = 0;
      for (const k of ks) if (store.delete(k)) n++;
      return n;
    },
    mget: async (...ks: string[]) => (
      calls.push(`mget ${ks.join(' ')}`),
      ks.map((k) => store.get(k) ?? null)
    ),
  };
  return { redis: redis as unknown as Redis, store, calls };
}
