import type { RunAlert } from '../reports/types';
import type { AuditResult } from './audit';
import type { RunFacts } from './facts';
import type { AlertExpectation, Experiment, SideName } from './schema';
import type { ProbeResult } from './verdict';

/*
 * What a run produces, shared by the engine, its live deps, the run metrics and the reports: a leaf (it imports
 * types only, from leaves), so none of them has to import the engine for its result.
 */

/**
 * completed = the expected outcome was observed; deviated = it was not; inconclusive = the lab could not tell (a
 * read failed, a wait timed out, a fault never took effect: Jepsen's `:unknown`), so neither; failed = a rollback
 * did not happen (the machine is not clean: the report says what is left); aborted = the run broke; interrupted =
 * Ctrl-C.
 */
export type Outcome =
  'completed' | 'deviated' | 'inconclusive' | 'failed' | 'aborted' | 'interrupted';

export interface TimelineEntry {
  tMs: number;
  what: string;
  /** set for the engine's own entries: a fault applied, a rollback run */
  kind?: 'fault' | 'heal';
  data?: Record<string, unknown>;
}

/** One rollback as it ran (chaostoolkit's rollback records): what, when, how long, and how it ended. */
export interface RollbackRecord {
  name: string;
  /** which step's fault it undoes, or `declared` / `engine` */
  origin: string;
  status: 'ok' | 'failed';
  tMs: number;
  durationMs: number;
  error?: string;
  /** on failure: what stays on the machine, and the command that removes it */
  leftover?: string;
  fix?: string;
}

export interface RunResult {
  id: string;
  /** the side this run showed, when the experiment declares both (`side` / `pair`) */
  side?: SideName;
  title: string;
  runId: string;
  seed: number;
  expected: Experiment['expected'];
  outcome: Outcome;
  startedAt: string;
  durationSec: number;
  topic: string;
  consumerGroup: string;
  workloadKind: string;
  workload: WorkloadStats;
  facts: RunFacts;
  /** the hypothesis' probes, then the alert judgements (type `alert`) */
  probes: ProbeResult[];
  /** the alert instances that count for this run, each with its state and what the expectations make of it */
  alerts: RunAlert[];
  /** this side's `alerts:` expectations, when the file declares them */
  alertExpectations?: AlertExpectation;
  audit: AuditResult | null;
  timeline: TimelineEntry[];
  rollbacks: RollbackRecord[];
  window: { startSec: number; endSec: number };
  /** why the lab could not tell (set with outcome `inconclusive`): a failed read, a timeout, a fault without effect */
  inconclusive?: string[];
  /** a `--counterfactual` run (its faults removed): did the side still reproduce, and what said it did not */
  counterfactual?: { reproduced: boolean; because: string[] };
  error?: string;
}

/** What the command stream did, as the journal keeps it (other workloads leave it empty, or fill a part). */
export interface WorkloadStats {
  sent: number;
  ok: number;
  failed: number;
  /** commands re-sent because the service was down (connection refused: it never received them) */
  retried: number;
  latenciesMs: number[];
  /** the first failures, as the client saw them */
  failures: { seq: number; kind: string; productId: number; error: string }[];
}

/** Stats of nothing sent yet: fresh arrays each time (the driver pushes into them). */
export const emptyStats = (): WorkloadStats => ({
  sent: 0,
  ok: 0,
  failed: 0,
  retried: 0,
  latenciesMs: [],
  failures: [],
});
