import type { PrometheusClient } from '../lib/prometheus';
import type { AuditFigures } from './audit';
import type { Probe, Tolerance } from './schema';

/** Facts the engine records while running, usable in tolerances as `facts.<name>`. */
export interface RunFacts {
  crashes: number;
  failpointsFired: number;
  restarts: number;
  commandsSent: number;
  commandsFailed: number;
  brokerKills: number;
  toxicsAdded: number;
  replays: number;
  /** `registry` register steps the registry refused with HTTP 409 */
  schemaRejected: number;
}

export interface ProbeResult {
  name: string;
  type: Probe['type'];
  expected: string;
  observed: number | null;
  ok: boolean;
  detail?: string;
  crossCheck?: { audit: string; auditValue: number; within: number; ok: boolean };
}

/** `$RUN` → the run id label value; `$WINDOW` → a range covering the whole run. */
export function renderQuery(query: string, runId: string, windowSec: number): string {
  return query.replace(/\$RUN\b/g, runId).replace(/\$WINDOW\b/g, `${Math.max(1, Math.ceil(windowSec))}s`);
}

function resolve(ref: number | string, audit: AuditFigures, facts: RunFacts): number {
  if (typeof ref === 'number') return ref;
  const [scope, key] = ref.split('.') as ['audit' | 'facts', string];
  const v = scope === 'audit' ? audit[key] : facts[key as keyof RunFacts];
  if (v === undefined) throw new Error(`unknown reference ${ref}`);
  return v;
}

export function describeTolerance(t: Tolerance, audit?: AuditFigures, facts?: RunFacts): string {
  const show = (r: number | string) => (typeof r === 'number' || !audit || !facts ? String(r) : `${r}=${resolve(r, audit, facts)}`);
  if ('eq' in t) return `= ${show(t.eq)}`;
  if ('gt' in t) return `> ${show(t.gt)}`;
  if ('ge' in t) return `≥ ${show(t.ge)}`;
  if ('lt' in t) return `< ${show(t.lt)}`;
  if ('le' in t) return `≤ ${show(t.le)}`;
  return `in [${show(t.between[0])}, ${show(t.between[1])}]`;
}

export function withinTolerance(v: number, t: Tolerance, audit: AuditFigures, facts: RunFacts): boolean {
  const r = (x: number | string) => resolve(x, audit, facts);
  if ('eq' in t) return v === r(t.eq);
  if ('gt' in t) return v > r(t.gt);
  if ('ge' in t) return v >= r(t.ge);
  if ('lt' in t) return v < r(t.lt);
  if ('le' in t) return v <= r(t.le);
  return v >= r(t.between[0]) && v <= r(t.between[1]);
}

/**
 * Evaluates every probe at `endSec`. PromQL values are rounded to integers when within 1e-6 of one (sums of
 * counters); an empty result counts as 0. A probe with `crossCheck` must also agree with the audit figure.
 */
export async function evaluateProbes(
  probes: Probe[],
  prom: PrometheusClient,
  ctx: { runId: string; windowSec: number; endSec: number; audit: AuditFigures; facts: RunFacts },
): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  for (const p of probes) {
    const expected = describeTolerance(p.tolerance, ctx.audit, ctx.facts);
    if (p.type === 'audit') {
      const v = ctx.audit[p.figure];
      if (v === undefined) {
        out.push({ name: p.name, type: p.type, expected, observed: null, ok: false, detail: `audit.${p.figure} was not produced by this run` });
        continue;
      }
      out.push({ name: p.name, type: p.type, expected, observed: v, ok: withinTolerance(v, p.tolerance, ctx.audit, ctx.facts), detail: `audit.${p.figure}` });
      continue;
    }
    const q = renderQuery(p.query, ctx.runId, ctx.windowSec);
    try {
      const raw = await prom.scalar(q, ctx.endSec);
      const v = Math.abs(raw - Math.round(raw)) < 1e-6 ? Math.round(raw) : Number(raw.toFixed(3));
      const res: ProbeResult = { name: p.name, type: p.type, expected, observed: v, ok: withinTolerance(v, p.tolerance, ctx.audit, ctx.facts), detail: q };
      if (p.crossCheck) {
        const a = ctx.audit[p.crossCheck.audit] ?? NaN;
        const agree = Math.abs(v - a) <= p.crossCheck.within;
        res.crossCheck = { audit: p.crossCheck.audit, auditValue: a, within: p.crossCheck.within, ok: agree };
        res.ok = res.ok && agree;
      }
      out.push(res);
    } catch (e) {
      out.push({ name: p.name, type: p.type, expected, observed: null, ok: false, detail: `${q}: ${(e as Error).message}` });
    }
  }
  return out;
}
