import type { PrometheusClient } from '../lib/prometheus';
import type { AuditFigures } from './audit';
import type { RunFacts } from './facts';
import type { Probe, Tolerance } from './schema';

export type { RunFacts } from './facts';

export interface ProbeResult {
  name: string;
  /** a probe of the hypothesis, or an alert judgement (the side's `alerts:`, src/experiments/alert-verdict.ts) */
  type: Probe['type'] | 'alert';
  expected: string;
  observed: number | null;
  ok: boolean;
  detail?: string;
  crossCheck?: { audit: string; auditValue: number; within: number; ok: boolean };
  /** `baseline: run-start`: the value at the run's start, already subtracted from `observed` */
  baseline?: number;
  /** the probe could not be read (its query errored): the run is inconclusive, not deviated */
  inconclusive?: boolean;
}

/**
 * `$RUN` → the run id label value; `$WINDOW` → a range covering the whole run; `$<NAME>` → a label value the
 * workload kind exports (e.g. E-008's `$NONE_KEYS`).
 */
export function renderQuery(
  query: string,
  runId: string,
  windowSec: number,
  labels: Readonly<Record<string, string>> = {},
): string {
  return query
    .replace(/\$RUN\b/g, runId)
    .replace(/\$WINDOW\b/g, `${Math.max(1, Math.ceil(windowSec))}s`)
    .replace(/\$([A-Z][A-Z0-9_]*)\b/g, (whole, name: string) => labels[name] ?? whole);
}

/** `$NAME` placeholders a query uses that neither the engine nor the workload kind defines. */
export function unknownPlaceholders(
  query: string,
  labels: Readonly<Record<string, string>> = {},
): string[] {
  return [...query.matchAll(/\$([A-Z][A-Z0-9_]*)\b/g)]
    .map((m) => m[1])
    .filter((name) => name !== 'RUN' && name !== 'WINDOW' && !(name in labels));
}

function resolve(ref: number | string, audit: AuditFigures, facts: RunFacts): number {
  if (typeof ref === 'number') return ref;
  const [scope, key] = ref.split('.') as ['audit' | 'facts', string];
  const v = scope === 'audit' ? audit[key] : facts[key as keyof RunFacts];
  if (v === undefined) throw new Error(`unknown reference ${ref}`);
  return v;
}

export function describeTolerance(t: Tolerance, audit?: AuditFigures, facts?: RunFacts): string {
  const show = (r: number | string) =>
    typeof r === 'number' || !audit || !facts ? String(r) : `${r}=${resolve(r, audit, facts)}`;
  if ('eq' in t) return `= ${show(t.eq)}`;
  if ('gt' in t) return `> ${show(t.gt)}`;
  if ('ge' in t) return `≥ ${show(t.ge)}`;
  if ('lt' in t) return `< ${show(t.lt)}`;
  if ('le' in t) return `≤ ${show(t.le)}`;
  return `in [${show(t.between[0])}, ${show(t.between[1])}]`;
}

export function withinTolerance(
  v: number,
  t: Tolerance,
  audit: AuditFigures,
  facts: RunFacts,
): boolean {
  const r = (x: number | string) => resolve(x, audit, facts);
  if ('eq' in t) return v === r(t.eq);
  if ('gt' in t) return v > r(t.gt);
  if ('ge' in t) return v >= r(t.ge);
  if ('lt' in t) return v < r(t.lt);
  if ('le' in t) return v <= r(t.le);
  return v >= r(t.between[0]) && v <= r(t.between[1]);
}

export interface ProbeContext {
  runId: string;
  windowSec: number;
  /** when the run started (the `baseline: run-start` instant) and ended (the instant every probe is read at) */
  startSec: number;
  endSec: number;
  audit: AuditFigures;
  facts: RunFacts;
  labels?: Readonly<Record<string, string>>;
}

/** Integers when within 1e-6 of one (sums of counters), else three decimals. */
const tidy = (raw: number) =>
  Math.abs(raw - Math.round(raw)) < 1e-6 ? Math.round(raw) : Number(raw.toFixed(3));

/** The sum of an instant vector, or undefined when Prometheus has no series for it: no data is not zero. */
async function sumOf(
  prom: Pick<PrometheusClient, 'query'>,
  query: string,
  atSec: number,
): Promise<number | undefined> {
  const samples = await prom.query(query, atSec);
  return samples.length ? samples.reduce((sum, sample) => sum + sample.value, 0) : undefined;
}

/**
 * Evaluates every probe at `endSec`. An empty PromQL result fails the probe ("no data for …") unless it declares
 * `absent`; `baseline: run-start` counts a counter's rise during the run only (see runIncrease). A probe with `crossCheck` must also agree
 * with the audit figure. An audit figure the run did not produce fails too.
 */
export async function evaluateProbes(
  probes: Probe[],
  prom: Pick<PrometheusClient, 'query' | 'range'>,
  ctx: ProbeContext,
): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  for (const p of probes)
    out.push(p.type === 'audit' ? auditProbe(p, ctx) : await promProbe(p, prom, ctx));
  return out;
}

/** A probe that could not be judged: no value, and why. */
const unjudged = (p: Probe, expected: string, detail: string): ProbeResult => ({
  name: p.name,
  type: p.type,
  expected,
  observed: null,
  ok: false,
  detail,
});

function auditProbe(p: Extract<Probe, { type: 'audit' }>, ctx: ProbeContext): ProbeResult {
  const expected = describeTolerance(p.tolerance, ctx.audit, ctx.facts);
  const v = ctx.audit[p.figure];
  if (v === undefined || Number.isNaN(v))
    return unjudged(p, expected, `audit.${p.figure} was not produced by this run`);
  return {
    name: p.name,
    type: p.type,
    expected,
    observed: v,
    ok: withinTolerance(v, p.tolerance, ctx.audit, ctx.facts),
    detail: `audit.${p.figure}`,
  };
}

async function promProbe(
  p: Extract<Probe, { type: 'promql' }>,
  prom: Pick<PrometheusClient, 'query' | 'range'>,
  ctx: ProbeContext,
): Promise<ProbeResult> {
  const expected = describeTolerance(p.tolerance, ctx.audit, ctx.facts);
  const q = renderQuery(p.query, ctx.runId, ctx.windowSec, ctx.labels);
  try {
    if (p.baseline === 'run-start') return await counterProbe(p, q, prom, ctx);
    const raw = await sumOf(prom, q, ctx.endSec);
    if (raw === undefined && !p.absent) return unjudged(p, expected, `no data for ${q}`);
    const v = tidy(raw ?? p.absent?.value ?? 0);
    const res: ProbeResult = {
      name: p.name,
      type: p.type,
      expected,
      observed: v,
      ok: false,
      detail:
        raw === undefined ? `${q}: no series; ${p.absent?.value} because ${p.absent?.reason}` : q,
    };
    return judged(res, v, p, ctx);
  } catch (e) {
    // Prometheus did not answer or refused the query: nothing was observed, so the run cannot tell.
    return { ...unjudged(p, expected, `${q}: ${(e as Error).message}`), inconclusive: true };
  }
}

function judged(
  res: ProbeResult,
  v: number,
  p: Extract<Probe, { type: 'promql' }>,
  ctx: ProbeContext,
): ProbeResult {
  res.ok = withinTolerance(v, p.tolerance, ctx.audit, ctx.facts);
  if (p.crossCheck) {
    const a = ctx.audit[p.crossCheck.audit] ?? NaN;
    const agree = Math.abs(v - a) <= p.crossCheck.within;
    res.crossCheck = {
      audit: p.crossCheck.audit,
      auditValue: a,
      within: p.crossCheck.within,
      ok: agree,
    };
    res.ok = res.ok && agree;
  }
  return res;
}

/**
 * How much a counter rose during this run only: per series, from its value at the run's start (0 for a series
 * born during the run) through every sample to the end, a drop being a restart of its process (the new value is
 * all new counts). Exact where `max_over_time` would hand this run earlier runs' counts and `increase()` would
 * drop a new series' first value. For JVM-lifetime counters (a broker's), which carry no incarnation label.
 */
export function runIncrease(
  values: [number, number][],
  startSec: number,
): { before: number; rise: number } {
  const before = values.filter(([t]) => t <= startSec).at(-1)?.[1] ?? 0;
  let previous = before;
  let rise = 0;
  for (const [, value] of values.filter(([t]) => t > startSec)) {
    rise += value >= previous ? value - previous : value;
    previous = value;
  }
  return { before, rise };
}

async function counterProbe(
  p: Extract<Probe, { type: 'promql' }>,
  q: string,
  prom: Pick<PrometheusClient, 'query' | 'range'>,
  ctx: ProbeContext,
): Promise<ProbeResult> {
  const expected = describeTolerance(p.tolerance, ctx.audit, ctx.facts);
  // From a little before the start (the value then), one point per second: a counter is scraped every second.
  const series = await prom.range(q, Math.floor(ctx.startSec) - 30, Math.ceil(ctx.endSec), 1);
  if (!series.length && !p.absent) return unjudged(p, expected, `no data for ${q} over the run`);
  const each = series.map((s) => runIncrease(s.values, ctx.startSec));
  const v = series.length ? tidy(each.reduce((a, x) => a + x.rise, 0)) : (p.absent?.value ?? 0);
  const res: ProbeResult = {
    name: p.name,
    type: p.type,
    expected,
    observed: v,
    ok: false,
    baseline: tidy(each.reduce((a, x) => a + x.before, 0)),
    detail: `rise of ${q} during the run (${series.length} series, restarts counted)`,
  };
  return judged(res, v, p, ctx);
}
