import { randomBytes } from 'node:crypto';
import type { Pool } from 'mysql2/promise';
import type { LabConfig } from '../lib/config';
import { TimeoutError } from '../lib/errors';
import type { Progress } from '../runtime/progress';
import { FaultHadNoEffect } from '../chaos/faults/effect';
import type { AppliedFault, FaultEnv, Rollback } from '../chaos/faults/types';
import { hasAlertJudgement, judgeAlerts, watchAlerts } from './alert-verdict';
import type { AuditResult } from './audit';
import { liveEngineDeps, type EngineDeps, type RunServices } from './engine-deps';
import { requiredFacts } from './evidence';
import { emptyFacts, type FactName } from './facts';
import { InvalidExperimentError, type LoadedExperiment } from './loader';
import { preflight } from './preflight';
import { Inconclusive, mustRead } from './inconclusive';
import { Interrupted } from './interrupted';
import {
  emptyStats,
  type Outcome,
  type RollbackRecord,
  type RunResult,
  type TimelineEntry,
  type WorkloadStats,
} from './result';
import type { Experiment, SideName, Step } from './schema';
import { settleScrapes } from './settle';
import { evaluateProbes } from './verdict';
import { workloadParams, type AnyWorkloadKind } from './workloads';
import type { FiredStep, WorkloadContext, WorkloadRun } from './workloads/types';

export { preflight } from './preflight';
export type { Outcome, RollbackRecord, RunResult, TimelineEntry, WorkloadStats } from './result';

/** `chaos exp run`'s exit code per outcome (README, "Exit codes"). 2 stays oclif's usage error. */
export const OUTCOME_EXIT_CODES: Record<Outcome, number> = {
  completed: 0,
  deviated: 1,
  aborted: 3,
  failed: 4,
  inconclusive: 5,
  interrupted: 130,
};

/** Worst last: with several runs (or a pair's two sides) the worst outcome decides. */
export const OUTCOME_SEVERITY: readonly Outcome[] = [
  'completed',
  'deviated',
  'inconclusive',
  'aborted',
  'failed',
  'interrupted',
];

/** The worse of two outcomes (OUTCOME_SEVERITY). */
export const worseOutcome = (a: Outcome, b: Outcome): Outcome =>
  OUTCOME_SEVERITY.indexOf(b) > OUTCOME_SEVERITY.indexOf(a) ? b : a;

export interface RunOptions {
  seed: number;
  progress: Progress;
  /** set by the CLI on SIGINT: the run stops at the next step and rolls back */
  signal?: AbortSignal;
  /** `--full`: a workload's long version (e.g. E-009's whole matrix) instead of the CI-sized one */
  full?: boolean;
  /**
   * `--counterfactual`: every fault step removed (recorded, not applied). A ❌ side must then not reproduce: its
   * outcome is `completed` when it did not (the probes that said so named), `deviated` when it reproduced anyway.
   */
  counterfactual?: boolean;
}

/** A pending undo, with the step it belongs to and its took-effect check. */
interface Pending {
  rollback: Rollback;
  origin: string;
  tookEffect?: AppliedFault['tookEffect'];
}

/** The record of one run while it lasts: timeline, facts, pending rollbacks and their records. */
class RunRecord {
  readonly result: RunResult;
  private readonly pending: Pending[] = [];
  /** failpoints the run armed: each must have fired, or the run cannot tell what it would have shown */
  readonly armedFailpoints = new Set<string>();
  /** the steps whose faults were applied (the facts they always raise must then be above 0) */
  readonly firedSteps: Step[] = [];
  /** took-effect checks of faults that have no undo: asked at the end of the workload */
  private readonly unchecked: Omit<Pending, 'rollback'>[] = [];
  private readonly t0: number;

  constructor(
    e: Experiment,
    seed: number,
    private readonly deps: Pick<EngineDeps, 'clock'>,
    private readonly progress: Progress,
    side?: SideName,
  ) {
    this.t0 = deps.clock.now();
    const tag = side ? `-${side === 'pattern' ? 'pat' : 'anti'}` : '';
    const runId = `${e.id.toLowerCase()}-s${seed}${tag}-${randomBytes(3).toString('hex')}`;
    this.result = {
      id: e.id,
      ...(side ? { side } : {}),
      title: e.title,
      runId,
      seed,
      expected: e.expected,
      outcome: 'aborted',
      startedAt: new Date(this.t0).toISOString(),
      durationSec: 0,
      topic: `lab.exp.${runId}`,
      consumerGroup: `exp-${runId}`,
      workloadKind: e.workload.kind,
      workload: emptyStats(),
      facts: emptyFacts(),
      probes: [],
      alerts: [],
      audit: null,
      timeline: [],
      rollbacks: [],
      window: { startSec: this.t0 / 1000, endSec: this.t0 / 1000 },
    };
  }

  get startMs() {
    return this.t0;
  }

  note = (what: string, data?: Record<string, unknown>, kind?: TimelineEntry['kind']) => {
    this.result.timeline.push({
      tMs: this.deps.clock.now() - this.t0,
      what,
      ...(kind ? { kind } : {}),
      ...(data ? { data } : {}),
    });
    this.progress.step(what, kind);
  };

  raise = (fact: FactName, by = 1) => {
    this.result.facts[fact] += by;
  };

  /** The run cannot tell (a read failed, a wait timed out, a fault had no effect): it goes on, and ends inconclusive. */
  cannotTell = (reason: string) => {
    (this.result.inconclusive ??= []).push(reason);
    this.note(`cannot tell: ${reason}`);
  };

  /** Records what a fault application did and keeps its undo for later. */
  applied(step: Step, fault: AppliedFault): Pending | undefined {
    for (const [fact, by] of Object.entries(fault.facts ?? {}) as [FactName, number][])
      this.raise(fact, by);
    this.note(`${step.name}: ${fault.description}`, fault.data, 'fault');
    const check = { origin: step.name, tookEffect: fault.tookEffect };
    if (!fault.rollback) return void this.unchecked.push(check);
    const entry = { ...check, rollback: fault.rollback };
    this.pending.push(entry);
    return entry;
  }

  /** A fault that reached nothing makes the run inconclusive; so does a check that could not be made. */
  async checkEffect({ origin, tookEffect }: Omit<Pending, 'rollback'>) {
    if (!tookEffect) return;
    const effect = await tookEffect().catch((err: Error) => ({
      took: false,
      detail: `its effect could not be checked (${err.message})`,
    }));
    if (effect.took) this.note(`${origin} took effect: ${effect.detail}`);
    else this.cannotTell(`${origin}: the fault never took effect (${effect.detail})`);
  }

  /** The checks of faults without an undo (the others are asked as they are undone). */
  async checkEffectsLeft() {
    for (let c = this.unchecked.shift(); c; c = this.unchecked.shift()) await this.checkEffect(c);
  }

  /** Runs one undo now and records it; a failure is recorded (with what is left), never thrown. */
  async runRollback(rollback: Rollback, origin: string): Promise<RollbackRecord> {
    const started = this.deps.clock.now();
    const record: RollbackRecord = {
      name: rollback.name,
      origin,
      status: 'ok',
      tMs: started - this.t0,
      durationMs: 0,
    };
    try {
      await rollback.run();
    } catch (err) {
      Object.assign(record, {
        status: 'failed',
        error: (err as Error).message,
        leftover: rollback.leftover,
        fix: rollback.fix,
      });
    }
    record.durationMs = this.deps.clock.now() - started;
    this.result.rollbacks.push(record);
    this.note(
      `rollback ${record.status === 'ok' ? 'done' : 'FAILED'}: ${rollback.name}${record.error ? ` (${record.error}; left: ${record.leftover}; remove with \`${record.fix}\`)` : ''}`,
      undefined,
      'heal',
    );
    return record;
  }

  /** Undoes one pending fault before the run ends (a workload's `undo`), once. */
  async undo(entry: Pending) {
    const at = this.pending.indexOf(entry);
    if (at < 0) return;
    this.pending.splice(at, 1);
    await this.checkEffect(entry);
    await this.runRollback(entry.rollback, entry.origin);
  }

  /** Every pending undo, last applied first, each fault's effect checked before it goes. */
  async rollBackAll() {
    for (let entry = this.pending.pop(); entry; entry = this.pending.pop()) {
      await this.checkEffect(entry);
      await this.runRollback(entry.rollback, entry.origin);
    }
  }

  failedRollbacks() {
    return this.result.rollbacks.filter((r) => r.status === 'failed');
  }
}

/**
 * Runs one experiment, every kind of workload through the same path: validate → reset → services in their modes
 * → `start` steps → workload (which fires the timed steps through the engine) → rollbacks → settle → audit and
 * probes → verdict. Every fault is undone and recorded whatever happened; a failed undo makes the run `failed`.
 * Never throws for what happens during the run: the result says how it ended (the CLI turns that into an exit code).
 */
export async function runExperiment(
  c: LabConfig,
  loaded: LoadedExperiment,
  opts: RunOptions,
  deps: EngineDeps = liveEngineDeps(c),
): Promise<RunResult> {
  const e = loaded.experiment;
  const kind = checkedKind(loaded, opts, deps);
  const run = new RunRecord(e, opts.seed, deps, opts.progress, loaded.side);
  const { result } = run;
  await deps.stack.up(opts.progress, { redisCluster: kind.needsRedisCluster ?? false });
  await preflight(loaded, deps.prometheus, kind, deps.documentedMetrics);
  const metrics = await deps.runMetrics(e, result.runId, opts.seed);
  if (metrics.problem) run.note(metrics.problem);
  const pool = deps.db.pool();
  const services = deps.services(
    e,
    { topic: result.topic, consumerGroup: result.consumerGroup, runId: result.runId },
    run.note,
    run.raise,
  );
  const checkInterrupted = () => {
    if (opts.signal?.aborted) throw new Interrupted();
  };
  const fire = stepFirer(c, e, run, deps, services, opts, checkInterrupted);
  try {
    await startRun(e, kind, run, deps, services, pool, opts, fire);
    const workloadRun = await kind.run(
      workloadContext(c, e, kind, run, services, pool, opts, fire, checkInterrupted, deps),
    );
    checkInterrupted();
    result.workload = {
      ...emptyStats(),
      ...(workloadRun.stats as Partial<WorkloadStats> | undefined),
    };
    services.stopWatching();
    // Faults off before judging: the audit reads the real data, not a degraded view of it.
    await run.checkEffectsLeft();
    await run.rollBackAll();
    await settle(e, run, deps);
    result.window.endSec = deps.clock.now() / 1000;
    await judge(e, kind, workloadRun, run, deps, services, !!opts.counterfactual);
    result.outcome = opts.counterfactual ? counterfactualOutcome(result) : outcomeOf(result);
  } catch (err) {
    if (cannotTell(err) && !opts.signal?.aborted) {
      run.cannotTell(err.message);
      result.outcome = 'inconclusive';
    } else {
      result.outcome =
        opts.signal?.aborted || err instanceof Interrupted ? 'interrupted' : 'aborted';
      result.error = (err as Error).message;
    }
  } finally {
    await cleanUp(e, run, deps, services, pool, metrics);
  }
  return result;
}

type Fire = WorkloadContext<unknown>['fire'];

/** The file's workload kind, registered; and a counterfactual that differs from the run itself. */
function checkedKind(loaded: LoadedExperiment, opts: RunOptions, deps: EngineDeps) {
  const e = loaded.experiment;
  const kind = deps.workloadFor(e.workload.kind);
  if (!kind)
    throw new InvalidExperimentError(loaded.file, [
      `workload.kind: "${e.workload.kind}" is not a registered workload kind`,
    ]);
  if (opts.counterfactual && !e.method.length && !e.counterfactual)
    throw new InvalidExperimentError(loaded.file, [
      `--counterfactual: ${e.id} has no fault step to remove and no \`counterfactual:\` block saying what removes its cause, so the counterfactual would be the same run`,
    ]);
  return kind;
}

/** How a step's fault is applied (and recorded, its undo kept), or only noted in a counterfactual run. */
function stepFirer(
  c: LabConfig,
  e: Experiment,
  run: RunRecord,
  deps: EngineDeps,
  services: RunServices,
  opts: RunOptions,
  checkInterrupted: () => void,
): Fire {
  const { result } = run;
  const env: FaultEnv = {
    c,
    port: services.port(),
    topic: result.topic,
    note: run.note,
  };
  return async (step: Step, overrides: Record<string, unknown> = {}): Promise<FiredStep> => {
    checkInterrupted();
    if (opts.counterfactual) {
      run.note(`${step.name}: not applied (counterfactual: every fault step removed)`);
      return { undo: async () => {}, applied: false };
    }
    const fault = deps.parseFault({ ...step.fault, ...overrides });
    run.firedSteps.push(step);
    if (fault.type === 'failpoint') {
      services.rearmOnRestart(fault);
      run.armedFailpoints.add(fault.failpoint);
    }
    const entry = run.applied(
      step,
      await deps.applyFault(env, fault, { index: e.method.indexOf(step), name: step.name }),
    );
    return { undo: async () => (entry ? run.undo(entry) : undefined), applied: true };
  };
}

/** The clean slate, the services in their modes, the `start` steps, the watch: what comes before the workload. */
async function startRun(
  e: Experiment,
  kind: AnyWorkloadKind,
  run: RunRecord,
  deps: EngineDeps,
  services: RunServices,
  pool: Pool,
  opts: RunOptions,
  fire: Fire,
) {
  const { result } = run;
  run.note(
    `reset: fresh topic ${result.topic}, tables truncated, cache flushed, services restarted`,
  );
  await deps.reset(pool, result.topic);
  // The run's own window: what happened before its reset (start-up, the previous run) is not this run's.
  result.window.startSec = deps.clock.now() / 1000;
  await services.startAll();
  for (const step of e.method.filter((s) => s.at === 'start')) await fire(step);
  services.watch();
  if (opts.counterfactual && e.counterfactual)
    run.note(
      `counterfactual: workload ${JSON.stringify(e.counterfactual.workload)} (${e.counterfactual.why})`,
    );
  run.note(`workload ${kind.kind}${opts.full ? ' (--full)' : ''}: ${kind.summary}`);
}

/** What the workload sees of the run (workloads/api.ts): its parameters, names, the stack, and the timeline. */
function workloadContext(
  c: LabConfig,
  e: Experiment,
  kind: AnyWorkloadKind,
  run: RunRecord,
  services: RunServices,
  pool: Pool,
  opts: RunOptions,
  fire: Fire,
  checkInterrupted: () => void,
  deps: EngineDeps,
): WorkloadContext<Record<string, unknown>> {
  const { result } = run;
  return {
    c,
    experiment: e,
    params: kind.params.parse({
      ...workloadParams(e.workload),
      ...(opts.counterfactual ? e.counterfactual?.workload : {}),
    }),
    runId: result.runId,
    topic: result.topic,
    consumerGroup: result.consumerGroup,
    seed: opts.seed,
    full: !!opts.full,
    pool,
    prom: deps.prometheus,
    services: services.port(),
    steps: e.method.filter((s) => s.at !== 'start'),
    stepsAt: (moment) =>
      e.method.filter(
        (s) => typeof s.at === 'object' && 'moment' in s.at && s.at.moment === moment,
      ),
    throwIfAborted: checkInterrupted,
    fire,
    note: run.note,
    raise: run.raise,
    inconclusive: run.cannotTell,
    progress: opts.progress,
    signal: opts.signal,
  };
}

/** Whatever happened: every fault undone (a failed undo fails the run), the pool closed, the run metrics pushed. */
async function cleanUp(
  e: Experiment,
  run: RunRecord,
  deps: EngineDeps,
  services: RunServices,
  pool: Pool,
  metrics: { finish(r: RunResult): Promise<void> },
) {
  const { result } = run;
  services.stopWatching();
  await run.rollBackAll();
  await declaredRollbacks(e, run, deps, services);
  await pool.end().catch((err: Error) => run.note(`closing the DB pool: ${err.message}`));
  const failed = run.failedRollbacks();
  if (failed.length) {
    result.outcome = 'failed';
    result.error = [
      result.error,
      `${failed.length} rollback(s) failed: ${failed.map((r) => `${r.name} (left: ${r.leftover}; remove with \`${r.fix}\`)`).join('; ')}`,
    ]
      .filter(Boolean)
      .join('\n');
  }
  result.durationSec = (deps.clock.now() - run.startMs) / 1000;
  await metrics.finish(result).catch((err: Error) => run.note(`run metrics: ${err.message}`)); // dashboards only
}

/** Errors that mean the lab could not tell, not that the run broke: a failed read, a wait timed out, no effect. */
const cannotTell = (err: unknown) =>
  err instanceof Inconclusive || err instanceof FaultHadNoEffect || err instanceof TimeoutError;

/**
 * What the probes and the reasons say: a run that could not tell is inconclusive even where its probes agree (they
 * may have read an undrained consumer or stale series); else completed when every probe held, deviated otherwise.
 */
export function outcomeOf(r: Pick<RunResult, 'probes' | 'inconclusive'>): Outcome {
  const unread = r.probes.filter((p) => p.inconclusive);
  if (r.inconclusive?.length || unread.length) return 'inconclusive';
  return r.probes.every((p) => p.ok) ? 'completed' : 'deviated';
}

/**
 * A counterfactual holds when the side, its faults removed, did not show its expected outcome (deviated, or could
 * not tell): `completed`, with the probes or reasons that said so; one that reproduced anyway is `deviated`.
 */
export function counterfactualOutcome(r: RunResult): Outcome {
  const judged = outcomeOf(r);
  const reproduced = judged === 'completed';
  r.counterfactual = {
    reproduced,
    because: reproduced
      ? []
      : [
          ...r.probes.filter((p) => !p.ok).map((p) => `probe "${p.name}"`),
          ...(r.inconclusive ?? []).map((why) => `cannot tell: ${why}`),
        ],
  };
  return reproduced ? 'deviated' : 'completed';
}

/** Until Prometheus holds the final values (a note says how long that took, or what had not caught up). */
async function settle(e: Experiment, run: RunRecord, deps: EngineDeps) {
  const { waitedMs, notCaughtUp, error } = await settleScrapes(deps, deps.clock.now(), {
    timeoutMs: e.quiescence.settleTimeoutMs,
    minMs: e.quiescence.settleMs,
  });
  const took = `${(waitedMs / 1000).toFixed(1)} s`;
  if (error) run.cannotTell(`settle: Prometheus did not answer for ${took} (${error})`);
  else if (notCaughtUp.length)
    run.cannotTell(
      `settle: after ${took}, not caught up with the run's end: ${notCaughtUp.join(', ')}`,
    );
  else
    run.note(
      `settled in ${took}: every target scraped and every rule group evaluated since the rollbacks`,
    );
}

/** Audit (figures the kind declared, all present), the file's time series, failpoint firings, then every probe. */
async function judge(
  e: Experiment,
  kind: NonNullable<ReturnType<EngineDeps['workloadFor']>>,
  workloadRun: WorkloadRun,
  run: RunRecord,
  deps: EngineDeps,
  services: RunServices,
  counterfactual: boolean,
) {
  const { result } = run;
  const outcome = await workloadRun.audit();
  const missing = kind.figures.filter((f) => typeof outcome.figures[f] !== 'number');
  if (missing.length)
    throw new Error(`workload ${kind.kind} did not report its figure(s) ${missing.join(', ')}`);
  const none: AuditResult['ids'] = {
    lostBeforeTopic: [],
    notApplied: [],
    duplicateEffects: [],
    topicDuplicates: [],
    staleReads: [],
  };
  result.audit = {
    figures: outcome.figures,
    sections: outcome.sections,
    plots: outcome.plots,
    data: outcome.data,
    ids: outcome.ids ?? none,
  };
  // + 2 s: a range selector's first sample may be scraped just before the reset ended, never the run before it
  const windowSec = result.window.endSec - result.window.startSec + 2;
  const firings = await mustRead(
    'the failpoint firings',
    services.failpointFirings(windowSec, result.window.endSec),
  );
  result.facts.failpointsFired = Object.values(firings).reduce((a, n) => a + n, 0);
  for (const name of run.armedFailpoints)
    if (!firings[name]) run.cannotTell(`failpoint ${name} was armed but never fired`);
  // A fact its fired steps always raise, still 0: a fault that never struck (failpoints are named just above).
  for (const fact of requiredFacts(run.firedSteps))
    if (fact !== 'failpointsFired' && result.facts[fact] === 0)
      run.cannotTell(`facts.${fact} is 0 although a step that raises it was fired`);
  if (e.timeSeries) {
    const series = await deps.timeSeries(e, {
      runId: result.runId,
      startSec: result.window.startSec,
      endSec: result.window.endSec,
    });
    result.audit = {
      ...result.audit,
      plots: [...(result.audit.plots ?? []), ...(series.plots ?? [])],
      sections: [...(result.audit.sections ?? []), ...(series.sections ?? [])],
    };
  }
  result.probes = await evaluateProbes(e['steady-state-hypothesis'].probes, deps.prometheus, {
    runId: result.runId,
    windowSec,
    startSec: result.window.startSec,
    endSec: result.window.endSec,
    audit: result.audit.figures,
    facts: result.facts,
    labels: kind.labels,
  });
  await judgeRunAlerts(e, run, deps, counterfactual);
}

/**
 * The side's alert expectations against the alerts that count for this run, while its services still run (an
 * expected alert not firing yet is waited for, up to `quiescence.alertWaitMs`): judgements added as probes.
 */
async function judgeRunAlerts(
  e: Experiment,
  run: RunRecord,
  deps: EngineDeps,
  counterfactual: boolean,
) {
  const { result } = run;
  const x = e.alerts?.[result.side ?? 'run'];
  if (x) result.alertExpectations = x;
  const judged = hasAlertJudgement(x, e.expected);
  const seen = await watchAlerts(deps.prometheus, deps.clock, {
    runId: result.runId,
    startSec: result.window.startSec,
    // without its faults an expected alert has no cause to fire: what has fired by now is all there is to judge
    waitMs: judged && !counterfactual ? e.quiescence.alertWaitMs : 0,
    firing: x?.firing ?? [],
  });
  // A ❌ side that names no alert has nothing to judge: the alerts are only recorded, when Prometheus answers.
  if ('error' in seen && !judged) return run.note(`alerts not read from Prometheus: ${seen.error}`);
  const { probes, alerts } = judgeAlerts(x, e.expected, seen);
  result.probes.push(...probes);
  result.alerts = alerts;
}

/** The file's declared rollbacks, then the engine's own (toxics off, the experiment's services stopped): all recorded. */
async function declaredRollbacks(
  e: Experiment,
  run: RunRecord,
  deps: EngineDeps,
  services: RunServices,
) {
  for (const rb of e.rollbacks) {
    const rollback: Rollback =
      rb.type === 'heal'
        ? {
            name: rb.name,
            run: () => deps.stack.heal(),
            leftover: 'toxics, paused processes or armed failpoints',
            fix: 'chaos heal',
          }
        : rb.type === 'disarm-failpoints'
          ? {
              name: rb.name,
              run: () => services.disarmAll(),
              leftover: 'armed failpoints in running services',
              fix: 'chaos heal',
            }
          : {
              name: rb.name,
              run: () => services.stopAll(),
              leftover: 'the experiment\u2019s services still running',
              fix: 'chaos services down',
            };
    await run.runRollback(rollback, 'declared');
  }
  await run.runRollback(
    {
      name: 'remove every toxic',
      run: () => deps.stack.healToxics(),
      leftover: 'toxics in Toxiproxy',
      fix: 'chaos heal',
    },
    'engine',
  );
  await run.runRollback(
    {
      name: 'stop the experiment\u2019s services',
      run: () => services.stopAll(),
      leftover: 'lab services still running',
      fix: 'chaos services down',
    },
    'engine',
  );
}
