import type { Plot } from '../experiments/audit';

export type { Plot };

/** An alert seen in Prometheus' ALERTS series during a run: when it became pending, and firing (if it did). */
export interface FiredAlert {
  alertname: string;
  severity?: string;
  /** the alert's other labels (broker, topic…), without alertname/alertstate/severity */
  labels: Record<string, string>;
  /** seconds since the run started (negative: it was already active before the run) */
  pendingAtSec?: number;
  firingAtSec?: number;
  /** last sample seen active, seconds since the run started */
  lastSeenSec: number;
  /** ALERTS_FOR_STATE: when the alert became active (epoch seconds), so "already active before this run" shows */
  activeSinceEpochSec?: number;
}

/**
 * An alert instance counted for a run (labelled with its run id or topic, or active since its start: see
 * countsForRun), with the state it reached and what the side's `alerts:` expectations make of it: `expected`
 * (listed in `firing`), `tolerated`, `unexpected` (listed in `silent`, or unlisted at warning or above on a ✅
 * side: it fails the run) or `unlisted` (anything else: judged by nothing).
 */
export interface RunAlert extends FiredAlert {
  state: 'firing' | 'pending';
  expectation: 'expected' | 'tolerated' | 'unexpected' | 'unlisted';
}

/** What Prometheus saw during a run, saved beside journal.json so a report can be re-rendered without the stack. */
export interface Observations {
  version: 1;
  /** epoch seconds; plots' x values are seconds since `startSec` (the run's start) */
  window: { startSec: number; endSec: number; stepSec: number };
  plots: Plot[];
  /** queries that returned no sample in the window (named, so an empty plot is not mistaken for a flat zero) */
  empty: { title: string; query: string }[];
  alerts: FiredAlert[];
  /** why observations are missing or partial (Prometheus unreachable…) */
  errors: string[];
}

export const noObservations = (why: string, startSec = 0, endSec = 0): Observations => ({
  version: 1, window: { startSec, endSec, stepSec: 1 }, plots: [], empty: [], alerts: [], errors: [why],
});
