import type { PrometheusClient } from '../lib/prometheus';
import { alertsDuring, alertState } from '../reports/alerts';
import type { FiredAlert, RunAlert } from '../reports/types';
import { atWarningOrAbove } from './alert-rules';
import type { AlertExpectation, Experiment } from './schema';
import type { ProbeResult } from './verdict';

/** How often an expected alert that is not firing yet is looked for again. */
export const ALERT_POLL_MS = 2000;

/**
 * Whether an alert instance belongs to this run. Labelled with `run`: only if it is this run's id. With a `topic`
 * label: only if the topic holds this run's id (another run's, a test's or the services' own topic never counts). Neither (a broker alert, say):
 * only if it became active at or after the run's start — ALERTS_FOR_STATE's activeAt, else its first pending
 * sample — so an alert left firing by an earlier run does not count for this one. activeAt is whole seconds,
 * hence the start rounded down.
 */
export function countsForRun(a: FiredAlert, runId: string, runStartSec: number): boolean {
  const { run, topic } = a.labels;
  if (run !== undefined) return run === runId;
  if (topic?.includes(runId)) return true;
  // a topic is this run's (lab.exp.<run id>…) or someone else's (another run, a test, the services' own topic)
  if (topic !== undefined) return false;
  const since =
    a.activeSinceEpochSec ??
    (a.pendingAtSec === undefined ? undefined : runStartSec + a.pendingAtSec);
  return since !== undefined && since >= Math.floor(runStartSec);
}

/** A side has something to judge when it names alerts that must fire or stay silent, or when it is ✅ (no noise). */
export const hasAlertJudgement = (
  x: AlertExpectation | undefined,
  expected: Experiment['expected'],
) => expected === 'controlled' || !!x?.firing.length || !!x?.silent.length;

const fmt = (s: number | undefined) => (s === undefined ? '?' : `+${s.toFixed(1)} s`);
const firing = (alerts: FiredAlert[], name?: string) =>
  alerts.filter((a) => a.firingAtSec !== undefined && (name === undefined || a.alertname === name));
const earliest = (alerts: FiredAlert[], at: (a: FiredAlert) => number | undefined) =>
  Math.min(...alerts.map((a) => at(a) ?? Infinity));

/** What the side's expectations make of one counted alert instance. */
function expectation(
  a: FiredAlert,
  x: AlertExpectation | undefined,
  expected: Experiment['expected'],
): RunAlert['expectation'] {
  if (x?.firing.includes(a.alertname)) return 'expected';
  if (x?.tolerated.includes(a.alertname)) return 'tolerated';
  if (x?.silent.includes(a.alertname)) return 'unexpected';
  return expected === 'controlled' && atWarningOrAbove(a.severity) ? 'unexpected' : 'unlisted';
}

/**
 * The alert judgements of one side, shown as probes (type `alert`): each `firing` name fired (≥ 1 counted
 * instance in state firing), each `silent` name did not, and on a ✅ side no unlisted alert at warning or above
 * fired. `counted`: the run's alert instances (countsForRun), read up to `judgedAtSec` after the run's start — or
 * the error that kept Prometheus from answering, which fails every judgement (no data is not a pass). Its
 * `carriedOver` instances (see WatchedAlerts) are returned untouched: they judge nothing.
 */
export function judgeAlerts(
  x: AlertExpectation | undefined,
  expected: Experiment['expected'],
  counted:
    { alerts: FiredAlert[]; carriedOver?: FiredAlert[]; judgedAtSec: number } | { error: string },
): { probes: ProbeResult[]; alerts: RunAlert[]; carriedOver: FiredAlert[] } {
  const { alerts, judgedAtSec } = 'error' in counted ? { alerts: [], judgedAtSec: 0 } : counted;
  // Carried-over instances are passed through for the reports only: nothing below reads them.
  const carriedOver = 'error' in counted ? [] : (counted.carriedOver ?? []);
  const runAlerts: RunAlert[] = alerts.map((a) => ({
    ...a,
    state: alertState(a),
    expectation: expectation(a, x, expected),
  }));
  const probes = [
    ...(x?.firing ?? []).map((name) => firesProbe(name, alerts, judgedAtSec)),
    ...(x?.silent ?? []).map((name) => silentProbe(name, alerts, judgedAtSec)),
    ...(expected === 'controlled' ? [noiseProbe(runAlerts, x)] : []),
  ];
  if (!('error' in counted)) return { probes, alerts: runAlerts, carriedOver };
  const detail = `ALERTS not read from Prometheus: ${counted.error}`;
  return {
    probes: probes.map((p) => ({ ...p, observed: null, ok: false, detail })),
    alerts: [],
    carriedOver: [],
  };
}

function firesProbe(name: string, alerts: FiredAlert[], judgedAtSec: number): ProbeResult {
  const fired = firing(alerts, name);
  const pending = alerts.filter((a) => a.alertname === name);
  const since = pending.length
    ? ` (pending at ${fmt(earliest(pending, (a) => a.pendingAtSec))})`
    : ' (never pending)';
  return {
    name: `alert ${name} fires`,
    type: 'alert',
    expected: 'firing',
    observed: fired.length,
    ok: fired.length > 0,
    detail: fired.length
      ? `firing at ${fmt(earliest(fired, (a) => a.firingAtSec))} after the run start`
      : `not firing by ${fmt(judgedAtSec)} after the run start${since}`,
  };
}

function silentProbe(name: string, alerts: FiredAlert[], judgedAtSec: number): ProbeResult {
  const fired = firing(alerts, name);
  return {
    name: `alert ${name} stays silent`,
    type: 'alert',
    expected: 'silent',
    observed: fired.length,
    ok: fired.length === 0,
    detail: fired.length
      ? `firing at ${fmt(earliest(fired, (a) => a.firingAtSec))} after the run start`
      : `not firing by ${fmt(judgedAtSec)} after the run start`,
  };
}

/** ✅: no alert at warning or above fired that the side does not list (those in `silent` have their own probe). */
function noiseProbe(alerts: RunAlert[], x: AlertExpectation | undefined): ProbeResult {
  const noise = alerts.filter(
    (a) =>
      a.state === 'firing' && a.expectation === 'unexpected' && !x?.silent.includes(a.alertname),
  );
  const allowed = [
    ...new Set(
      alerts
        .filter((a) => a.state === 'firing' && a.expectation !== 'unexpected')
        .map((a) => a.alertname),
    ),
  ];
  return {
    name: 'no unexpected alert at warning or above',
    type: 'alert',
    expected: 'silent',
    observed: noise.length,
    ok: noise.length === 0,
    detail: noise.length
      ? `unexpected: ${noise.map((a) => `${a.alertname} (${a.severity}, firing at ${fmt(a.firingAtSec)})`).join(', ')}`
      : `none${allowed.length ? `; declared or below warning: ${allowed.join(', ')}` : ''}`,
  };
}

/** What Prometheus showed in a run's window: the instances that count for it, and those carried over. */
export interface WatchedAlerts {
  alerts: FiredAlert[];
  /**
   * Cluster-wide (unlabelled) instances already active before the run's start: seen in its window, left by
   * start-up or an earlier run. Kept for the reports' grey line; they never judge a probe.
   */
  carriedOver: FiredAlert[];
  judgedAtSec: number;
}

/** Neither a `run` nor a `topic` label: a broker's, the cluster's — whoever's run made it fire. */
const clusterWide = (a: FiredAlert) => a.labels.run === undefined && a.labels.topic === undefined;

/**
 * Reads the run's alerts from Prometheus (ALERTS and ALERTS_FOR_STATE, from `startSec` — the instant the reset
 * finished — to now), keeping the instances that count for it and setting aside the cluster-wide ones carried
 * over; another run's are dropped. While a `firing` expectation is not met, reads again every ALERT_POLL_MS up to
 * `waitMs`, so a detection that comes a little after the run still counts. Never waits once everything is decided.
 */
export async function watchAlerts(
  prom: Pick<PrometheusClient, 'range'>,
  clock: { now(): number; sleep(ms: number): Promise<void> },
  run: { runId: string; startSec: number; waitMs: number; firing: string[] },
): Promise<WatchedAlerts | { error: string }> {
  const deadline = clock.now() + run.waitMs;
  for (;;) {
    const nowSec = clock.now() / 1000;
    let seen: FiredAlert[];
    try {
      seen = await alertsDuring(prom, run.startSec, nowSec);
    } catch (err) {
      return { error: (err as Error).message };
    }
    const alerts = seen.filter((a) => countsForRun(a, run.runId, run.startSec));
    const carriedOver = seen.filter((a) => !alerts.includes(a) && clusterWide(a));
    const missing = run.firing.filter((name) => !firing(alerts, name).length);
    const left = deadline - clock.now();
    if (!missing.length || left <= 0)
      return { alerts, carriedOver, judgedAtSec: nowSec - run.startSec };
    await clock.sleep(Math.min(ALERT_POLL_MS, left));
  }
}
