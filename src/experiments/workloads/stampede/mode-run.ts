import type Redis from 'ioredis';
import { sleep } from '../../../lib/wait';
import type { StampedeMode } from '../../../services/query/config';
import { EXP_CACHE_PREFIX, type WorkloadContext } from '../api';
import type { ProductReads } from './db-reads';
import { hardExpire, softExpire, waitFilledSince } from './expiry';
import { burst, planReaders, type ReaderResult } from './readers';

export const INSTANCES = ['query-service', 'query-service-2'] as const;

/** Each mode reads its own product ids (100001…, 200001…, 300001…), so its loads are told apart by the `key` label. */
export const KEY_BASE: Record<StampedeMode, number> = {
  none: 100_000,
  singleflight: 200_000,
  'soft-ttl': 300_000,
};
export const keyRegex = (mode: StampedeMode) => `${KEY_BASE[mode] / 100_000}[0-9]{5}`;
export const modeIds = (mode: StampedeMode, hotKeys: number) =>
  Array.from({ length: hotKeys }, (_, i) => KEY_BASE[mode] + i + 1);

export interface StormParams {
  readers: number;
  hotKeys: number;
  rounds: number;
  dbLatencyMs: number;
  arrivalJitterMs: number;
  /** expire the hot keys at each round's start; false = the counterfactual (every reader hits the cache) */
  expire: boolean;
}

export interface ModeResult {
  mode: StampedeMode;
  /** (key, round) pairs at least one reader asked for: the expiries that could cost a DB load */
  keyExpiries: number;
  /** MariaDB's count of product rows read during the rounds (warm-up excluded) */
  dbLoads: number;
  /** the services' own lab_query_db_queries_by_key_total for this mode's keys, warm-up excluded */
  dbLoadsByService: number;
  results: ReaderResult[];
  /** DB product reads per second, x = s since the first round started */
  series: [number, number][];
  /** peak SELECT/s seen by mysqld_exporter (Com_select) over this mode's rounds */
  peakSelectQps: number;
  seconds: number;
}

/** The keys each round asked for, counted once per round (none when the keys are not expired). */
export function keyExpiries(seed: number, p: StormParams): number {
  if (!p.expire) return 0;
  let n = 0;
  for (let round = 1; round <= p.rounds; round++)
    n += new Set(
      planReaders(seed, round, { ...p, instances: INSTANCES.length }).map((r) => r.keyIndex),
    ).size;
  return n;
}

/**
 * One mode's storm: both query-service instances restarted in the mode, its hot keys seeded and warmed (each
 * read once), then the DB made slow (`slowDb`: the file's `storm` steps, a latency toxic on `mysql`, fired once per
 * side and kept through its modes) and, `rounds` times: expire every hot key at once, fire the seeded readers through
 * both instances, wait for the answers (and, with soft-ttl, for the background refresh).
 */
export async function runMode(
  ctx: WorkloadContext<unknown>,
  mode: StampedeMode,
  p: StormParams,
  deps: { redis: Redis; reads: ProductReads; restart: boolean; slowDb: () => Promise<void> },
): Promise<ModeResult> {
  const { redis, reads } = deps;
  const ids = modeIds(mode, p.hotKeys);
  if (deps.restart) {
    ctx.note(`${mode}: restarting ${INSTANCES.join(' and ')} with STAMPEDE=${mode}`);
    await Promise.all(INSTANCES.map((s) => ctx.services.start(s, { STAMPEDE: mode })));
  }
  await ctx.pool.query('INSERT INTO product (id, name, price, stock, version) VALUES ?', [
    ids.map((id) => [id, `hot item ${id}`, 19.99, 100, 1]),
  ]);
  const urls = INSTANCES.map((s) => ctx.services.url(s));
  // Warm-up: one read per key (alternating instances, so each opens a DB connection), exactly one load per key.
  for (const [i, id] of ids.entries()) {
    const res = await fetch(`${urls[i % urls.length]}/products/${id}`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok)
      throw new Error(
        `${mode}: warm-up read of product ${id} failed: HTTP ${res.status} ${await res.text()}`,
      );
  }

  await deps.slowDb();
  ctx.note(
    `${mode}: ${p.rounds} rounds of ${p.readers} readers on ${p.hotKeys} hot keys, DB ${p.dbLatencyMs} ms late`,
  );
  const results: ReaderResult[] = [];
  let series: [number, number][] = [];
  const t0 = Date.now();
  const before = await reads.count();
  const sampler = reads.sample(250);
  try {
    for (let round = 1; round <= p.rounds; round++) {
      ctx.throwIfAborted();
      const plan = planReaders(ctx.seed, round, { ...p, instances: urls.length });
      const asked = [...new Set(plan.map((r) => ids[r.keyIndex]))];
      if (p.expire)
        await (mode === 'soft-ttl' ? softExpire : hardExpire)(redis, EXP_CACHE_PREFIX, ids);
      const since = Date.now();
      const rs = await burst(
        plan,
        (r) => `${urls[r.instance]}/products/${ids[r.keyIndex]}`,
        60_000 + 20 * p.dbLatencyMs,
      );
      results.push(...rs);
      // soft-ttl answers before its refresh ends; count the round only once the refresh has landed.
      if (
        mode === 'soft-ttl' &&
        p.expire &&
        !(await waitFilledSince(redis, EXP_CACHE_PREFIX, asked, since, 10 * p.dbLatencyMs + 10_000))
      ) {
        ctx.note(`${mode}: round ${round}: the background refresh did not land in time`);
      }
      const byKey = rs.filter((r) => r.source === 'db').length;
      ctx.note(
        `${mode}: round ${round}: ${rs.length} readers, ${byKey} answered by their own DB load, slowest ${Math.round(Math.max(...rs.map((r) => r.ms)))} ms`,
      );
    }
    await sleep(300); // one more sample after the last load
  } finally {
    series = await sampler.stop();
  }
  const after = await reads.count();
  const seconds = (Date.now() - t0) / 1000;
  const dbLoadsByService = (await scrapedLoads(ctx, mode, urls, ids)) - ids.length;
  const peakSelectQps = await ctx.prom
    .scalar(
      `max_over_time(rate(mysql_global_status_commands_total{command="select"}[2s])[${Math.max(2, Math.ceil(seconds) + 1)}s:500ms])`,
    )
    .catch(() => NaN); // NaN = never measured: a probe on it fails instead of passing as 0
  return {
    mode,
    keyExpiries: keyExpiries(ctx.seed, p),
    dbLoads: after - before,
    dbLoadsByService,
    results,
    series,
    peakSelectQps: Math.round(peakSelectQps ?? NaN),
    seconds,
  };
}

/**
 * The services' load counters for this mode's keys, once Prometheus holds the same total: the next mode restarts
 * the services, and a load Prometheus never scraped would be missing from the PromQL probes.
 */
async function scrapedLoads(
  ctx: WorkloadContext<unknown>,
  mode: StampedeMode,
  urls: string[],
  ids: number[],
): Promise<number> {
  let own = 0;
  for (const u of urls) {
    const st = (await (
      await fetch(`${u}/cache/stats`, { signal: AbortSignal.timeout(10_000) })
    ).json()) as { dbQueriesByKey: Record<string, number> };
    for (const id of ids) own += st.dbQueriesByKey[String(id)] ?? 0;
  }
  const q = `sum(lab_query_db_queries_by_key_total{run="${ctx.runId}",key=~"${keyRegex(mode)}"})`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    // a poll until the deadline below, which throws naming both counts
    const seen = (await ctx.prom.scalar(q).catch(() => undefined)) ?? -1;
    if (seen === own) return own;
    if (Date.now() > deadline) {
      ctx.note(
        `${mode}: Prometheus has ${seen} loads for this mode's keys, the services ${own}; going on`,
      );
      return own;
    }
    await sleep(250);
  }
}
