import type { Pool } from 'mysql2/promise';
import type { z } from 'zod';
import type { LabConfig } from '../../lib/config';
import type { PrometheusClient } from '../../lib/prometheus';
import type { Progress } from '../../runtime/progress';
import type { AuditIds, Plot } from '../audit';
import type { FactName } from '../facts';
import type { Experiment, Step } from '../schema';
import type { RunPort } from '../../runtime/run-port';

export type { Plot };

/** What the engine and a workload read from Prometheus (a fake in the engine's unit tests). */
export type PrometheusReads = Pick<
  PrometheusClient,
  'query' | 'range' | 'scalar' | 'metricNames' | 'rules' | 'scrapeState'
>;

/** A fault the workload fired through the engine; `undo` runs (and records) its rollback now, not at the end. */
export interface FiredStep {
  undo: () => Promise<void>;
  /** false in a counterfactual run: the step was recorded, not applied (nothing to wait for, e.g. no failover) */
  applied: boolean;
}

/** What a workload may use from the engine: the run's names, the stack, the services it started, the timeline. */
export interface WorkloadContext<P> {
  c: LabConfig;
  experiment: Experiment;
  /** the experiment's `workload:` block (minus `kind`), validated by the kind's own schema */
  params: P;
  runId: string;
  /** a fresh topic created for this run (lab.exp.<run>), plus its DLQ; a workload may create more lab.exp.<run>.* topics */
  topic: string;
  /** the consumer group the experiment's services use (exp-<run>) */
  consumerGroup: string;
  seed: number;
  /** `chaos exp run --full`: the long version (full matrix, more messages) instead of the CI-sized one */
  full: boolean;
  pool: Pool;
  /** Prometheus' reads (queries, scalars), as the engine holds them */
  prom: PrometheusReads;
  services: RunPort;
  /** the file's timeline steps other than `start` ones (those already fired); the workload decides when */
  steps: Step[];
  /** the file's steps at `at: { moment }`: the workload fires them itself, when that moment comes */
  stepsAt(moment: string): Step[];
  /** throws Interrupted once Ctrl-C was pressed: a looping workload calls it between rounds */
  throwIfAborted(): void;
  /**
   * Fires a step of the file through the engine (recorded, counted in facts, rolled back at the end). The only way
   * a workload injects a fault. `overrides` aims it at what only the run knows (the partition leader of a phase).
   */
  fire: (step: Step, overrides?: Record<string, unknown>) => Promise<FiredStep>;
  /** a line in the run's timeline (and on the progress line) */
  note: (what: string, data?: Record<string, unknown>) => void;
  /** raises one of the kind's declared facts */
  raise: (fact: FactName, by?: number) => void;
  /** the run cannot tell (a wait timed out, a read failed): recorded; the run goes on and ends `inconclusive` */
  inconclusive: (reason: string) => void;
  progress: Progress;
  signal?: AbortSignal;
}

export interface WorkloadOutcome {
  /** the workload's own audit: every name in `figures` of its kind, usable as `audit.<name>` in probes */
  figures: Record<string, number>;
  /** the offending ids per anomaly (lost, duplicated…), when the kind tracks ids */
  ids?: AuditIds;
  /** extra report sections (markdown), e.g. a Jepsen-style table of a matrix */
  sections?: { title: string; markdown: string }[];
  plots?: Plot[];
  /** anything machine-readable the journal should keep (per-cell results, lost keys…) */
  data?: unknown;
}

/** The workload has run; its audit is read once the engine has rolled every fault back (the real data, not a degraded view). */
export interface WorkloadRun {
  /** what the workload did, for the journal (commands sent, failures seen…) */
  stats?: Record<string, unknown>;
  audit: () => Promise<WorkloadOutcome>;
}

/**
 * A workload kind, registered by name (like a fault kind): its parameters (a strict zod object, the `kind`
 * field excluded), the audit figures and query labels it exports (probes refer to names the kind exports, never
 * copies of its internals), the facts it raises and the moments at which it fires the file's steps.
 */
export interface WorkloadKind<S extends z.AnyZodObject = z.AnyZodObject> {
  kind: string;
  summary: string;
  /** strict, without `kind` (the registry adds it) */
  params: S;
  figures: readonly string[];
  /** `$NAME` placeholders its probes may use in PromQL, e.g. E-008's `$NONE_KEYS` = the `key` label regex of mode none */
  labels?: Readonly<Record<string, string>>;
  facts: readonly FactName[];
  /** `at: { moment: <name> }` values a step may use: the workload fires those steps itself, when the moment comes */
  moments?: readonly string[];
  /** the services it needs in the file's `services:` */
  requiresServices?: readonly string[];
  /** runs on the 6-node Redis Cluster: the engine brings the stack up as `chaos up --redis cluster` does */
  needsRedisCluster?: boolean;
  run(ctx: WorkloadContext<z.infer<S>>): Promise<WorkloadRun>;
  /**
   * The one line of a run's figures the CLI, the journal and the reports print after the verdict (`report.ts`'s
   * headline). Without it, every figure as `name value`. Only what is printed: the figures themselves stay as they
   * are (probes read them). A figure the journal kept as NaN comes back null.
   */
  figuresLine?(figures: Readonly<Record<string, number | null>>): string;
}

/** A workload that did everything (figures included) while running. */
export const finished = (outcome: WorkloadOutcome): WorkloadRun => ({ audit: async () => outcome });
