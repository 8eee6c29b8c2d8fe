import type { Pool } from 'mysql2/promise';
import type { z } from 'zod';
import type { LabConfig } from '../../lib/config';
import type { PrometheusClient } from '../../lib/prometheus';
import type { Progress } from '../../runtime/progress';
import type { Experiment, Step } from '../schema';
import type { RunFacts } from '../verdict';

/** What a scenario may use from the engine: the run's names, the stack, the services it started, the timeline. */
export interface ScenarioContext<P> {
  c: LabConfig;
  experiment: Experiment;
  /** the experiment's `scenario:` block (minus `kind`), validated by the scenario's own schema */
  params: P;
  runId: string;
  /** a fresh topic created for this run (lab.exp.<run>), plus its DLQ; a scenario may create more lab.exp.<run>.* topics */
  topic: string;
  /** the consumer group the experiment's services use (exp-<run>) */
  consumerGroup: string;
  seed: number;
  /** `chaos exp run --full`: the long version (full matrix, more messages) instead of the CI-sized one */
  full: boolean;
  pool: Pool;
  prom: PrometheusClient;
  /** base URL of a service the experiment started (services: in the file) */
  serviceUrl: (service: string) => string;
  /** (re)start one of the experiment's services with its modes plus `env` (sticky for later restarts), e.g. another STAMPEDE mode */
  startService: (service: string, env?: Record<string, string>) => Promise<void>;
  /** the file's timeline steps other than `start` ones (those already fired); the scenario decides when */
  steps: Step[];
  fire: (step: Step) => Promise<void>;
  /** a line in the run's timeline (and on the progress line) */
  note: (what: string, data?: Record<string, unknown>) => void;
  progress: Progress;
  facts: RunFacts;
  signal?: AbortSignal;
}

/** A time series the scenario measured itself (e.g. per-mode DB queries/s), drawn by the HTML report. */
export interface Plot {
  title: string;
  unit?: string;
  /** x is seconds since the scenario started */
  series: { name: string; points: [number, number][] }[];
}

export interface ScenarioOutcome {
  /** the scenario's own audit: every name in `figures` of its definition, usable as `audit.<name>` in probes */
  figures: Record<string, number>;
  /** extra report sections (markdown), e.g. a Jepsen-style table of a matrix */
  sections?: { title: string; markdown: string }[];
  plots?: Plot[];
  /** anything machine-readable the journal should keep (per-cell results, lost keys…) */
  data?: unknown;
}

/**
 * A workload the seeded command stream cannot express (raw producers under broker kills, transactions held open,
 * read storms). It owns its workload and its audit; the engine still does reset, services, rollback and the
 * PromQL/audit verdict, so its figures are judged exactly like the command audit's.
 */
export interface Scenario<P = unknown> {
  kind: string;
  summary: string;
  params: z.ZodType<P, z.ZodTypeDef, unknown>;
  figures: readonly string[];
  run(ctx: ScenarioContext<P>): Promise<ScenarioOutcome>;
}
