import { countsForRun } from '../experiments/alert-verdict';
import type { RunResult } from '../experiments/engine';
import { alertsJudged, sameInstance } from './alerts';
import type { FiredAlert } from './types';

/** What a report shows of the alerts seen in a run's window: those that count for it, and the rest apart. */
export interface RunAlertsShown {
  /** the run's own: as Prometheus showed them over the report window, then any judged after that window */
  counted: FiredAlert[];
  /** seen in the window but not this run's (left by start-up, an earlier run, or labelled with another run) */
  carriedOver: FiredAlert[];
}

/**
 * Splits the alerts seen in a run's report window (`seen`: its prometheus.json, which starts before the reset) by
 * what counted for the run. A judged run's counted instances are its RunResult.alerts, exactly what judged its
 * probes; a run judged on nothing (a ❌ side without `alerts:`, an old journal) counts by the same rule from the
 * workload's start (countsForRun), never more.
 */
export function alertsOfRun(
  r: Pick<RunResult, 'alerts' | 'probes' | 'runId' | 'window' | 'startedAt'>,
  seen: FiredAlert[],
): RunAlertsShown {
  // `seen` counts seconds from the report window's start (the run's startedAt); countsForRun from the workload's.
  const shift = Date.parse(r.startedAt) / 1000 - r.window.startSec;
  const fromWorkload = (a: FiredAlert) =>
    a.pendingAtSec === undefined ? a : { ...a, pendingAtSec: a.pendingAtSec + shift };
  const own = alertsJudged(r)
    ? (a: FiredAlert) => (r.alerts ?? []).some((c) => sameInstance(a, c))
    : (a: FiredAlert) => countsForRun(fromWorkload(a), r.runId, r.window.startSec);
  const counted = seen.filter(own);
  const later = alertsJudged(r)
    ? (r.alerts ?? []).filter((c) => !seen.some((a) => sameInstance(a, c)))
    : [];
  return { counted: [...counted, ...later], carriedOver: seen.filter((a) => !own(a)) };
}

/** One line per alert name (an alert may fire for several label sets, e.g. per DLQ topic): its earliest instance. */
export const byName = (alerts: FiredAlert[]): FiredAlert[] => [
  ...new Map([...alerts].reverse().map((a) => [a.alertname, a])).values(),
].reverse();

/** The grey line's words: how many alert names were carried over. */
export const carriedOverSummary = (carried: FiredAlert[]) => {
  const n = byName(carried).length;
  return `${n} alert${n === 1 ? '' : 's'} carried over from earlier runs`;
};
