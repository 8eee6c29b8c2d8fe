import type { PrometheusClient, Series } from '../lib/prometheus';
import type { FiredAlert, RunAlert } from './types';

const IDENTITY_SKIP = new Set(['__name__', 'alertname', 'alertstate', 'severity']);
const identity = (m: Record<string, string>) =>
  JSON.stringify(Object.entries(m).filter(([k]) => !IDENTITY_SKIP.has(k)).sort(([a], [b]) => a.localeCompare(b)).concat([['alertname', m.alertname]]));

/**
 * Turns Prometheus' ALERTS series (one per alert instance and state, present while pending or firing) into one row
 * per alert instance: when it was first pending, first firing, last seen — as seconds since `runStartSec`.
 * `activeSince` comes from ALERTS_FOR_STATE (epoch seconds at which the alert became active), keyed the same way.
 */
export function summariseAlerts(alerts: Series[], runStartSec: number, activeSince: Series[] = []): FiredAlert[] {
  // An instance that resolves and becomes active again within the window (a short-window alert firing once per
  // failover, say) is counted from its first activation at or after the run's start, not from one left over by an
  // earlier run: ALERTS_FOR_STATE's activeAt tells the activations apart.
  const since = new Map<string, number>();
  for (const s of activeSince) {
    if (!s.values.length) continue;
    const starts = s.values.map(([, v]) => v);
    const own = starts.filter((v) => v >= Math.floor(runStartSec));
    since.set(identity(s.metric), Math.min(...(own.length ? own : starts)));
  }
  const rows = new Map<string, FiredAlert>();
  for (const s of alerts) {
    if (!s.values.length || !s.metric.alertname) continue;
    const key = identity(s.metric);
    const labels = Object.fromEntries(Object.entries(s.metric).filter(([k]) => !IDENTITY_SKIP.has(k)));
    const row = rows.get(key) ?? { alertname: s.metric.alertname, ...(s.metric.severity ? { severity: s.metric.severity } : {}), labels, lastSeenSec: -Infinity };
    const activeAt = since.get(key);
    const times = s.values.map(([t]) => t);
    const fromActivation = activeAt === undefined ? times : times.filter((t) => t >= activeAt);
    const first = Math.min(...(fromActivation.length ? fromActivation : times)) - runStartSec;
    const last = Math.max(...times) - runStartSec;
    if (s.metric.alertstate === 'firing') row.firingAtSec = Math.min(row.firingAtSec ?? Infinity, first);
    else row.pendingAtSec = Math.min(row.pendingAtSec ?? Infinity, first);
    row.lastSeenSec = Math.max(row.lastSeenSec, last);
    if (activeAt !== undefined) row.activeSinceEpochSec = activeAt;
    rows.set(key, row);
  }
  // An alert that went straight to firing (for: 0s) was pending for no evaluation: say so with the same instant.
  for (const row of rows.values()) if (row.firingAtSec !== undefined && row.pendingAtSec === undefined) row.pendingAtSec = row.firingAtSec;
  return [...rows.values()].sort((a, b) => (a.pendingAtSec ?? 0) - (b.pendingAtSec ?? 0) || a.alertname.localeCompare(b.alertname));
}

/** Alerts pending or firing at any evaluation within [startSec, endSec] (rules are evaluated every second). */
export async function alertsDuring(prom: Pick<PrometheusClient, 'range'>, startSec: number, endSec: number): Promise<FiredAlert[]> {
  const step = Math.max(1, Math.ceil((endSec - startSec) / 10_000)); // stay under Prometheus' 11,000 points per series
  const [alerts, since] = await Promise.all([
    prom.range('ALERTS', startSec, endSec, step),
    prom.range('ALERTS_FOR_STATE', startSec, endSec, step),
  ]);
  return summariseAlerts(alerts, startSec, since);
}

export const alertState = (a: FiredAlert) => (a.firingAtSec !== undefined ? 'firing' : 'pending');

export const sameInstance = (a: FiredAlert, b: FiredAlert) =>
  a.alertname === b.alertname && JSON.stringify(Object.entries(a.labels).sort()) === JSON.stringify(Object.entries(b.labels).sort());

/**
 * What a run's judgement made of an alert seen in its window: expected, tolerated, unexpected, unlisted — or
 * `not counted` (another run's, or active before this run started: see countsForRun).
 */
export const countedAs = (a: FiredAlert, counted: RunAlert[]): string =>
  counted.find((c) => sameInstance(a, c))?.expectation ?? 'not counted';

/** Whether a run's alerts were judged (journals from before alert expectations have neither). */
export const alertsJudged = (r: { alerts?: RunAlert[]; probes: { type: string }[] }) =>
  !!r.alerts?.length || r.probes.some((p) => p.type === 'alert');
