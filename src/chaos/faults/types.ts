import type { z } from 'zod';
import type { LabConfig } from '../../lib/config';
import type { FactName } from '../../experiments/facts';
import type { Effect } from './effect';
import type { RunPort } from '../../runtime/run-port';

/**
 * An undo for a fault. The engine runs every pending one when the run ends (whatever happened) and records
 * each with its status, duration and error; `run` throws when the undo did not happen — never swallow it.
 */
export interface Rollback {
  name: string;
  run: () => Promise<void>;
  /** what stays broken on the machine when `run` fails, e.g. "toxic exp0_latency on mysql" */
  leftover: string;
  /** the command an operator runs to remove the leftover by hand, e.g. "chaos heal" */
  fix: string;
}

/** What a fault may use from the run that fires it (the engine builds it; `chaos inject` builds a smaller one). */
export interface FaultEnv {
  c: LabConfig;
  /** the run's services: URLs, deliberate starts and stops, failpoints, the DLQ replay */
  port: RunPort;
  /** the run's topic (registry steps default to its value subject) */
  topic: string;
  note: (what: string, data?: Record<string, unknown>) => void;
}

export interface AppliedFault {
  /** one line for the timeline: what was done */
  description: string;
  rollback?: Rollback;
  /** facts this application raised, e.g. { toxicsAdded: 1 } */
  facts?: Partial<Record<FactName, number>>;
  /** anything the timeline should keep (HTTP status, schema id…) */
  data?: Record<string, unknown>;
  /**
   * Whether it reached anything (a toxic no connection crossed did not): asked just before its undo, or at the
   * end of the run when it has none. A kind without it takes effect by applying (an action, a kill that succeeded).
   */
  tookEffect?: () => Promise<Effect>;
}

/**
 * A fault kind, registered by name like Toxiproxy's toxics (`toxics/toxic.go` Register): one file per kind, a
 * strict zod schema whose `type` literal is the kind's name and whose fields carry their units (`latencyMs`),
 * the facts it may raise, and how to apply it. Unknown attributes are an error, never ignored.
 */
export interface FaultKind<S extends z.ZodTypeAny = z.ZodTypeAny> {
  type: string;
  summary: string;
  schema: S;
  facts: readonly FactName[];
  apply(
    env: FaultEnv,
    fault: z.infer<S>,
    step: { index: number; name: string },
  ): Promise<AppliedFault>;
}
