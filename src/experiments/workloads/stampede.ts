import { z } from 'zod';
import { labRedis } from '../../lib/redis';
import { STAMPEDE_MODES, type StampedeMode } from '../../services/query/config';
import { ProductReads } from './stampede/db-reads';
import { keyRegex, runMode, type ModeResult, type StormParams } from './stampede/mode-run';
import { finished, percentile, type FiredStep, type Plot, type WorkloadKind } from './api';

const Storm = {
  readers: z.number().int().min(1).max(20_000),
  rounds: z.number().int().min(1).max(50),
};

const Params = z
  .object({
    /** concurrent readers per expiry round, split across query-service and query-service-2 */
    ...Storm,
    hotKeys: z.number().int().min(1).max(100),
    /** the modes this side stormed, in order; a comma-separated string too (a side's configuration value is scalar) */
    modes: z
      .preprocess(
        (v) => (typeof v === 'string' ? v.split(',').map((m) => m.trim()) : v),
        z.array(z.enum(STAMPEDE_MODES)).min(1),
      )
      .default([...STAMPEDE_MODES]),
    /** the latency of the file's `storm` step (a toxic on `mysql`), for the report and the figures: every DB answer arrives this late */
    dbLatencyMs: z.number().int().min(10).max(10_000),
    /** each reader starts at a seeded random offset in [0, arrivalJitterMs) */
    arrivalJitterMs: z.number().int().min(0).max(10_000).default(20),
    /**
     * expire the hot keys at the start of each round (the storm's cause). `false` is the counterfactual: the same
     * readers on keys still cached, so no reader misses and no expiry can cost a DB load
     */
    expire: z.boolean().default(true),
    /** `chaos exp run --full`: a bigger storm */
    full: z.object(Storm).partial().strict().default({}),
  })
  .strict();
type Params = z.infer<typeof Params>;

/** Figure names per mode: `none…`, `singleflight…`, `softTtl…`. */
const MODE_KEY: Record<StampedeMode, string> = {
  none: 'none',
  singleflight: 'singleflight',
  'soft-ttl': 'softTtl',
};
const PER_MODE = [
  'DbLoads',
  'DbLoadsByService',
  'DbLoadsPerKey',
  'P50Ms',
  'P99Ms',
  'MaxMs',
  'BlockedCallers',
  'SlowCallers',
  'StaleAnswers',
  'Errors',
  'PeakSelectQps',
] as const;
/** The worst of the modes this run stormed: what one side of the pair is compared on against the other. */
const WORST = ['worstDbLoadsPerKey', 'worstPeakSelectQps'] as const;
const FIGURES = [
  'keyExpiries',
  'readers',
  'dbLatencyMs',
  ...WORST,
  ...STAMPEDE_MODES.flatMap((m) => PER_MODE.map((f) => `${MODE_KEY[m]}${f}`)),
];

/** A mode's latency percentile in whole ms; 0 when no reader answered (a figure is a number, never NaN). */
const latencyMs = (ms: number[], p: number) => (ms.length ? Math.round(percentile(ms, p)) : 0);

function figuresOf(r: ModeResult, dbLatencyMs: number): Record<string, number> {
  const ms = r.results.map((x) => x.ms);
  const count = (f: (x: ModeResult['results'][number]) => boolean) => r.results.filter(f).length;
  const m = MODE_KEY[r.mode];
  return {
    [`${m}DbLoads`]: r.dbLoads,
    [`${m}DbLoadsByService`]: r.dbLoadsByService,
    [`${m}DbLoadsPerKey`]: Number((r.dbLoads / Math.max(1, r.keyExpiries)).toFixed(2)),
    [`${m}P50Ms`]: latencyMs(ms, 50),
    [`${m}P99Ms`]: latencyMs(ms, 99),
    [`${m}MaxMs`]: Math.round(Math.max(0, ...ms)),
    // Answered by a DB load it waited for (its own, or one it joined in-process): blocked on the slow DB. Readers
    // of singleflight that waited on the other instance's lock come back as `cache` and are not in here.
    [`${m}BlockedCallers`]: count((x) => x.source === 'db'),
    // Client-side latency of at least one DB round trip. On a CPU-starved box this also counts readers that only
    // queued for CPU (here: hundreds of ms to seconds), so it is reported, not judged.
    [`${m}SlowCallers`]: count((x) => x.ms >= dbLatencyMs),
    [`${m}StaleAnswers`]: count((x) => x.source === 'stale'),
    [`${m}Errors`]: count((x) => x.status !== 200),
    [`${m}PeakSelectQps`]: r.peakSelectQps,
  };
}

/**
 * The one line of a run: each mode it stormed (its DB loads per key per expiry, its p99), then the storm's size.
 * A mode left out of `modes` has NaN figures (null once journaled): it is not shown.
 */
export function stampedeLine(figures: Readonly<Record<string, number | null>>): string {
  const ran = (v: number | null | undefined): v is number =>
    typeof v === 'number' && Number.isFinite(v);
  const modes = STAMPEDE_MODES.filter((mode) => ran(figures[`${MODE_KEY[mode]}DbLoadsPerKey`])).map(
    (mode) => {
      const m = MODE_KEY[mode];
      const stale = figures[`${m}StaleAnswers`];
      const errors = figures[`${m}Errors`];
      return [
        `${mode}: ${figures[`${m}DbLoadsPerKey`]} DB loads/key/expiry`,
        `p99 ${figures[`${m}P99Ms`]} ms`,
        ...(ran(stale) && stale > 0 ? [`${stale} stale`] : []),
        ...(ran(errors) && errors > 0 ? [`${errors} errors`] : []),
      ].join(', ');
    },
  );
  const storm = `${figures.keyExpiries} key expiries, ${figures.readers} readers, DB latency ${figures.dbLatencyMs} ms`;
  return [...(modes.length ? modes : ['no mode ran']), storm].join('; ');
}

function table(rs: ModeResult[], p: StormParams): string {
  const rows = rs.map((r) => {
    const f = figuresOf(r, p.dbLatencyMs);
    const m = MODE_KEY[r.mode];
    const src = ['db', 'cache', 'stale']
      .map((s) => r.results.filter((x) => x.source === s).length)
      .join(' / ');
    return `| ${r.mode} | ${f[`${m}DbLoads`]} (service: ${f[`${m}DbLoadsByService`]}) | **${f[`${m}DbLoadsPerKey`]}** | ${f[`${m}P50Ms`]} | ${f[`${m}P99Ms`]} | ${f[`${m}MaxMs`]} | ${f[`${m}BlockedCallers`]} | ${f[`${m}SlowCallers`]} | ${src} | ${f[`${m}PeakSelectQps`]} | ${f[`${m}Errors`]} |`;
  });
  return [
    `${p.rounds} expiry rounds × ${p.readers} readers on ${p.hotKeys} hot keys through 2 query-service instances, DB latency ${p.dbLatencyMs} ms (Toxiproxy). ` +
      `DB loads counted by MariaDB (product rows read by primary key, userstat) and by the services (lab_query_db_queries_by_key_total).`,
    '',
    '| mode | DB loads (MariaDB / service) | loads per key per expiry | p50 ms | p99 ms | max ms | blocked on a DB load | latency ≥ DB latency | answers db / cache / stale | peak SELECT/s (mysqld_exporter) | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/**
 * Cache stampede (E-008): the same seeded storm of concurrent readers hits hot keys at the moment they expire,
 * with a slow DB, once per STAMPEDE mode. Measures DB loads per key per expiry (MariaDB's count, the services'
 * counters), reader latency, and the DB read rate over time.
 */
export const stampedeScenario: WorkloadKind<typeof Params> = {
  kind: 'cache-stampede',
  summary:
    'concurrent readers on hot keys at expiry, slow DB, per STAMPEDE mode: DB loads per key, latency',
  params: Params,
  figures: FIGURES,
  /** the `key` label values of each mode's hot keys, for PromQL probes (`key=~"$NONE_KEYS"`) */
  labels: {
    NONE_KEYS: keyRegex('none'),
    SINGLEFLIGHT_KEYS: keyRegex('singleflight'),
    SOFT_TTL_KEYS: keyRegex('soft-ttl'),
  },
  facts: [],
  moments: ['storm'],
  requiresServices: ['query-service', 'query-service-2'],
  figuresLine: stampedeLine,
  async run(ctx) {
    const p: StormParams = { ...ctx.params, ...(ctx.full ? ctx.params.full : {}) };
    if (!p.expire) ctx.note('the hot keys are not expired: every round reads keys still cached');
    const redis = labRedis(ctx.c);
    const reads = await ProductReads.open(ctx.c);
    const results: ModeResult[] = [];
    // The file's `storm` steps (the slow DB), fired through the engine once, before the side's first storm, and kept
    // through every mode it storms: both sides of the pair then see the same fault schedule, one slow DB each,
    // however many modes a side compares (the next mode's warm-up reads run slow too; they are not counted).
    const storm: FiredStep[] = [];
    const slowDb = async () => {
      if (storm.length) return;
      for (const step of ctx.stepsAt('storm')) storm.push(await ctx.fire(step));
    };
    try {
      const initial = ctx.experiment.services['query-service']?.modes.STAMPEDE ?? 'none';
      for (const [i, mode] of ctx.params.modes.entries()) {
        const restart = !(i === 0 && mode === initial);
        results.push(await runMode(ctx, mode, p, { redis, reads, restart, slowDb }));
      }
    } finally {
      for (const fired of storm) await fired.undo();
      redis.disconnect();
      await reads.close();
    }
    const figures: Record<string, number> = {
      keyExpiries: results[0].keyExpiries,
      readers: p.readers,
      dbLatencyMs: p.dbLatencyMs,
    };
    for (const f of FIGURES) if (!(f in figures)) figures[f] = NaN; // a mode left out of `modes`: its probes fail, visibly
    for (const r of results) Object.assign(figures, figuresOf(r, p.dbLatencyMs));
    const worst = (f: (typeof PER_MODE)[number]) =>
      Math.max(...results.map((r) => figures[`${MODE_KEY[r.mode]}${f}`]));
    figures.worstDbLoadsPerKey = worst('DbLoadsPerKey');
    figures.worstPeakSelectQps = worst('PeakSelectQps');
    const plots: Plot[] = [
      {
        title: 'DB product reads per second during the storm (MariaDB, every 250 ms)',
        unit: 'reads/s',
        series: results.map((r) => ({ name: r.mode, points: r.series })),
      },
      {
        title: 'Reader latency by start time within its round (client side)',
        unit: 'ms',
        series: results.map((r) => ({
          name: r.mode,
          points: r.results.map((x): [number, number] => [
            Number((x.startMs / 1000).toFixed(3)),
            Math.round(x.ms),
          ]),
        })),
      },
    ];
    return finished({
      figures,
      sections: [{ title: 'Stampede per mode', markdown: table(results, p) }],
      plots,
      data: results.map((r) => ({
        mode: r.mode,
        seconds: r.seconds,
        keyExpiries: r.keyExpiries,
        dbLoads: r.dbLoads,
        dbLoadsByService: r.dbLoadsByService,
        series: r.series,
      })),
    });
  },
};
