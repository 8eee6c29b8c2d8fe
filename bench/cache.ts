import * as http from 'node:http';
import * as path from 'node:path';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import type { LabConfig } from '../src/lib/config';
import { labRedis } from '../src/lib/redis';
import { sleep, waitFor } from '../src/lib/wait';
import { keys } from '../src/services/query/cache';
import type { StartedService } from '../src/runtime/services';
import {
  assertRunning,
  deadService,
  freshTopic,
  getJson,
  log,
  ms,
  pct,
  PRODUCT_BASE,
  profileEnv,
  request,
  retry,
  RUN,
  withService,
} from './lib';
import { profileText, summarizeProfile } from './profile';

export interface Lat {
  p50: number;
  p99: number;
}
export interface CacheResult {
  hit: Lat;
  rawGet: Lat;
  /** a bare node:http server in the bench process doing the same GET: the floor of "HTTP + one Redis GET" */
  bareHttp: Lat;
  miss: Lat;
  rawSelect: Lat;
  profile?: string;
}
export interface StampedeRow {
  mode: string;
  scenario: 'flush' | 'soft expiry';
  concurrency: number;
  dbQueries: number;
  p50: number;
  p99: number;
  errors: number;
}

const PREFIX = `lab:bench:${RUN}:`;
/** query-service's own key layout (CACHE_INVALIDATION=del, the default: one value key per product). */
const valueKey = (id: number) => keys(PREFIX).value(String(id));
const lat = (xs: number[]): Lat => ({ p50: pct(xs, 50), p99: pct(xs, 99) });

async function seedProducts(pool: Pool, ids: number[]) {
  const rows = ids.map((id) => [id, `bench ${id}`, 12.34, 5, 1]);
  await pool.query(
    'INSERT INTO product (id, name, price, stock, version) VALUES ? ON DUPLICATE KEY UPDATE version = version',
    [rows],
  );
}

/**
 * Runs the paths in turn, one call each per round (sequential, one in flight), so every path sees the same load:
 * this box is shared with running experiments, and back-to-back loops would compare different minutes.
 * fn gets the round index (warm-up rounds first), so a miss loop can use an id no call has touched yet.
 */
async function interleaved(
  n: number,
  warm: number,
  fns: ((i: number) => Promise<unknown>)[],
): Promise<number[][]> {
  const out = fns.map(() => [] as number[]);
  for (let i = 0; i < warm + n; i++) {
    for (let f = 0; f < fns.length; f++) {
      const t0 = process.hrtime.bigint();
      await fns[f](i);
      if (i >= warm) out[f].push(ms(t0));
    }
  }
  return out;
}

/** Sequential requests (one in flight): latency, not throughput — the same shape for service, bare HTTP and raw GET. */
async function hitMiss(
  c: LabConfig,
  pool: Pool,
  s: StartedService,
  n: number,
): Promise<Omit<CacheResult, 'profile'>> {
  const missIds = Array.from({ length: 520 }, (_, i) => PRODUCT_BASE + 20_000 + i);
  const hotId = PRODUCT_BASE + 30_000;
  await seedProducts(pool, [...missIds, hotId]);
  const get = async (id: number, want: string) => {
    const r = await request('GET', `${s.url}/products/${id}`);
    const src =
      r.status === 200 ? (JSON.parse(r.body) as { source: string }).source : `HTTP ${r.status}`;
    if (src !== want)
      throw new Error(
        `GET /products/${id}: expected source ${want}, got ${src} (rows wiped by an experiment?)`,
      );
  };
  const select = (id: number) =>
    pool.query('SELECT id, name, price, stock, version, updated_at FROM product WHERE id = ?', [
      id,
    ]);
  const [miss, rawSelect] = await interleaved(missIds.length - 20, 20, [
    (i) => get(missIds[i], 'db'),
    (i) => select(missIds[i]),
  ]);
  await get(hotId, 'db');
  const redis = labRedis(c);
  const key = valueKey(hotId);
  // The raw GET must read the entry the service serves: a GET of a missing key is a cheaper, different figure.
  if ((await redis.get(key)) === null) {
    redis.disconnect();
    throw new Error(
      `${key} is not in Redis after a cache fill: the bench's key layout is not the service's`,
    );
  }
  const bare = http.createServer((_req, res) => void redis.get(key).then((v) => res.end(v)));
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}/`;
  try {
    const [hit, rawGet, bareHttp] = await interleaved(n, 1000, [
      () => get(hotId, 'cache'),
      () => redis.get(key),
      () => request('GET', bareUrl),
    ]);
    return {
      hit: lat(hit),
      rawGet: lat(rawGet),
      bareHttp: lat(bareHttp),
      miss: lat(miss),
      rawSelect: lat(rawSelect),
    };
  } finally {
    bare.close();
    redis.disconnect();
  }
}

export async function benchCacheLatency(
  c: LabConfig,
  kafka: Kafka,
  pool: Pool,
  n: number,
  profDir: string,
): Promise<CacheResult> {
  const topic = await freshTopic(kafka);
  const env = {
    LAB_TOPIC: topic,
    LAB_QUERY_GROUP: `bench-${RUN}-q`,
    QUERY_CACHE_PREFIX: PREFIX,
    CACHE_TTL_MS: '600000',
    LAB_LOG_LEVEL: 'warn',
  };
  const res: CacheResult = await retry('cache latency', () =>
    withService(c, 'query-service', { modes: { STAMPEDE: 'none' }, env }, (s) =>
      hitMiss(c, pool, s, n),
    ),
  );
  log(
    `cache hit p50/p99 ${res.hit.p50.toFixed(2)}/${res.hit.p99.toFixed(2)} ms, raw GET ${res.rawGet.p50.toFixed(2)}/${res.rawGet.p99.toFixed(2)} ms, bare http ${res.bareHttp.p50.toFixed(2)}/${res.bareHttp.p99.toFixed(2)} ms`,
  );
  if (res.hit.p99 > 3 * res.rawGet.p99) {
    // Where a hit's time goes inside query-service: profile the hit loop only.
    const file = path.join(profDir, 'query-hit.cpuprofile');
    await retry('cache profile', () =>
      withService(
        c,
        'query-service',
        {
          modes: { STAMPEDE: 'none' },
          env: { ...env, LAB_QUERY_GROUP: `bench-${RUN}-qp`, ...profileEnv(file) },
        },
        async (s) => {
          await request('GET', `${s.url}/products/${PRODUCT_BASE + 30_000}`);
          await interleaved(n, 0, [
            () => request('GET', `${s.url}/products/${PRODUCT_BASE + 30_000}`),
          ]);
        },
      ),
    );
    res.profile = profileText(summarizeProfile(file));
  }
  return res;
}

/** N readers at once on one key, each its own connection (a shared pool of sockets would serialise them). */
async function burst(url: string, n: number): Promise<{ lat: number[]; errors: number }> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  try {
    const rs = await Promise.all(
      Array.from({ length: n }, async () => {
        const t0 = process.hrtime.bigint();
        const r = await request('GET', url, undefined, agent).catch(() => ({
          status: 0,
          body: '',
        }));
        return { ms: ms(t0), ok: r.status === 200 };
      }),
    );
    return { lat: rs.map((r) => r.ms), errors: rs.filter((r) => !r.ok).length };
  } finally {
    agent.destroy();
  }
}

const dbLoads = async (s: StartedService, id: number) =>
  (await getJson<{ dbQueriesByKey: Record<string, number> }>(`${s.url}/cache/stats`))
    .dbQueriesByKey[String(id)] ?? 0;

/**
 * Per mode one query-service-7 with a 200 ms DB (sticky delay failpoint). "flush": POST /cache/flush is exactly a
 * hard expiry (the key is gone). "soft expiry" (soft-ttl only): the entry is still there but past its soft TTL.
 * TTLs are long and jitter 0 so no second expiry falls inside one burst.
 */
export async function benchStampede(
  c: LabConfig,
  kafka: Kafka,
  pool: Pool,
  levels: number[],
): Promise<StampedeRow[]> {
  const topic = await freshTopic(kafka);
  const rows: StampedeRow[] = [];
  let nextId = PRODUCT_BASE + 40_000;
  const redis = labRedis(c);
  try {
    for (const mode of ['none', 'singleflight', 'soft-ttl'] as const) {
      // Soft TTL far longer than a burst (5,000 readers can take many seconds here): one burst = one expiry.
      const softMs = 60_000;
      const env = {
        LAB_TOPIC: topic,
        LAB_QUERY_GROUP: `bench-${RUN}-st-${mode}`,
        QUERY_CACHE_PREFIX: PREFIX,
        CACHE_TTL_MS: '120000',
        CACHE_TTL_JITTER: '0',
        SOFT_TTL_MS: String(softMs),
        LAB_FAILPOINTS: 'query.before-db-load=delay:200@1+',
        LAB_LOG_LEVEL: 'error',
      };
      const modeRows = await retry(`stampede ${mode}`, () =>
        withService(c, 'query-service', { modes: { STAMPEDE: mode }, env }, async (s) => {
          const out: StampedeRow[] = [];
          const scenarios =
            mode === 'soft-ttl' ? (['flush', 'soft expiry'] as const) : (['flush'] as const);
          for (const scenario of scenarios) {
            for (const n of levels) {
              const id = nextId++; // a fresh key per burst: its per-key counter starts clean
              await seedProducts(pool, [id]);
              await request('POST', `${s.url}/cache/flush`, {});
              if (scenario === 'soft expiry') {
                await request('GET', `${s.url}/products/${id}`);
                await softExpire(c, redis, id);
              }
              const before = await dbLoads(s, id);
              const b = await burst(`${s.url}/products/${id}`, n);
              await sleep(600); // a soft-ttl refresh runs after the answers: let it land before counting
              const row = {
                mode,
                scenario,
                concurrency: n,
                dbQueries: (await dbLoads(s, id)) - before,
                p50: pct(b.lat, 50),
                p99: pct(b.lat, 99),
                errors: b.errors,
              };
              assertRunning(c);
              out.push(row);
              log(
                `stampede ${mode}/${scenario} ×${n}: ${row.dbQueries} DB queries, p50 ${row.p50.toFixed(0)} ms p99 ${row.p99.toFixed(0)} ms, errors ${row.errors}`,
              );
            }
          }
          return out;
        }),
      );
      rows.push(...modeRows);
    }
  } finally {
    redis.disconnect(); // also when a mode fails: an open client kept `npm run bench` alive after it finished
  }
  assertAllRows(rows, levels);
  return rows;
}

/** Every mode × expiry × level has its row: a missing one fails the section, never shows as a gap. */
function assertAllRows(rows: StampedeRow[], levels: number[]) {
  const want = [
    ...['none', 'singleflight', 'soft-ttl'].map((m) => [m, 'flush'] as const),
    ['soft-ttl', 'soft expiry'] as const,
  ].flatMap(([m, sc]) => levels.map((n) => `${m}/${sc}/${n}`));
  const have = new Set(rows.map((r) => `${r.mode}/${r.scenario}/${r.concurrency}`));
  const missing = want.filter((w) => !have.has(w));
  if (missing.length) throw new Error(`stampede rows not measured: ${missing.join(', ')}`);
}

/**
 * Moves the cached entry's soft expiry into the past, keeping its hard TTL: what waiting SOFT_TTL_MS would do.
 * Reads the entry back first (up to 5 s): the fill is the service's, and only a cached entry can be soft-expired.
 */
async function softExpire(c: LabConfig, redis: ReturnType<typeof labRedis>, id: number) {
  const key = valueKey(id);
  const { raw, ttl } = await waitFor(
    `${key} cached by query-service-7 (the soft-expiry burst needs an entry to expire)`,
    async () => {
      const [raw, ttl] = await Promise.all([redis.get(key), redis.pttl(key)]);
      return raw && ttl > 0 ? { raw, ttl } : undefined;
    },
    { timeoutMs: 5000, intervalMs: 20, abortIf: () => deadService(c) },
  );
  await redis.set(
    key,
    JSON.stringify({ ...(JSON.parse(raw) as object), softExpiresAt: Date.now() - 1 }),
    'PX',
    ttl,
  );
}
