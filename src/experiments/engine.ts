import { randomBytes } from 'node:crypto';
import type { Pool } from 'mysql2/promise';
import type { LabConfig } from '../lib/config';
import { labPool } from '../lib/db';
import { dlqTopic } from '../lib/events';
import { labKafka } from '../lib/kafka';
import { labRedis } from '../lib/redis';
import { ensureTopics } from '../lib/topics';
import { sleep } from '../lib/wait';
import type { Progress } from '../runtime/progress';
import { ensureMigrated, SERVICE_NAMES, stopService, validateModes } from '../runtime/services';
import { heal } from '../chaos/heal';
import { healToxics, prometheusClient, supervisorFor, up } from '../runtime/stack';
import { replayDlq } from '../services/replay-worker/replay';
import { audit, type AuditResult } from './audit';
import { applyFault, type FaultEnv, type Rollback } from '../chaos/faults';
import { InvalidExperimentError, type LoadedExperiment } from './loader';
import { Interrupted, waitQuiescence } from './quiescence';
import { runWorkload, type WorkloadStats } from './runner';
import { RunMetrics } from './run-metrics';
import { scenarioFor } from './scenarios';
import { collectTimeSeries } from './timeseries';
import { EXP_CACHE_PREFIX, ServiceWatcher } from './watcher';
import type { Experiment, Step } from './schema';
import { evaluateProbes, renderQuery, type ProbeResult, type RunFacts } from './verdict';

export type Outcome = 'completed' | 'deviated' | 'aborted' | 'interrupted';

export interface TimelineEntry {
  tMs: number;
  what: string;
  data?: Record<string, unknown>;
}

export interface RunResult {
  id: string;
  title: string;
  runId: string;
  seed: number;
  expected: Experiment['expected'];
  /** completed = the expected outcome was observed (exit 0); deviated = it was not */
  outcome: Outcome;
  startedAt: string;
  durationSec: number;
  topic: string;
  consumerGroup: string;
  workload: WorkloadStats;
  facts: RunFacts;
  probes: ProbeResult[];
  audit: AuditResult | null;
  timeline: TimelineEntry[];
  window: { startSec: number; endSec: number };
  error?: string;
}

/**
 * What an experiment owns, and so may wipe: its topics (lab.exp.*), groups (exp-*), product ids below
 * EXP_MAX_PRODUCT_ID and cache keys under EXP_CACHE_PREFIX. Tests and benchmarks use other names, ids and
 * prefixes, so a run does not pull the rug from under them (nor they from under it).
 */
const EXP_MAX_PRODUCT_ID = 1_000_000;
const RESET_SQL = [
  "DELETE FROM side_effect_ledger WHERE consumer_group LIKE 'exp-%'",
  "DELETE FROM processed_event WHERE consumer_group LIKE 'exp-%'",
  "DELETE FROM outbox WHERE topic LIKE 'lab.exp.%'",
  "DELETE FROM command_log WHERE topic LIKE 'lab.exp.%'",
  `DELETE FROM product_view WHERE product_id < ${EXP_MAX_PRODUCT_ID}`,
  `DELETE FROM product WHERE id < ${EXP_MAX_PRODUCT_ID}`,
];

export interface RunOptions {
  seed: number;
  progress: Progress;
  /** set by the CLI on SIGINT: the run stops at the next step and rolls back */
  signal?: AbortSignal;
  /** `--full`: a scenario's long version (e.g. E-009's whole matrix) instead of the CI-sized one */
  full?: boolean;
}

/**
 * Runs one experiment end to end: reset → services in the experiment's modes → workload with its fault timeline
 * → quiescence → rollback → audit and PromQL probes → verdict. Every fault is undone in `finally`, on success,
 * failure, exception or Ctrl-C.
 */
export async function runExperiment(c: LabConfig, loaded: LoadedExperiment, opts: RunOptions): Promise<RunResult> {
  const e = loaded.experiment;
  const runId = `${e.id.toLowerCase()}-s${opts.seed}-${randomBytes(3).toString('hex')}`;
  const topic = `lab.exp.${runId}`;
  const consumerGroup = `exp-${runId}`;
  const t0 = Date.now();
  const timeline: TimelineEntry[] = [];
  const note = (what: string, data?: Record<string, unknown>) => {
    timeline.push({ tMs: Date.now() - t0, what, ...(data ? { data } : {}) });
    opts.progress.step(what);
  };
  const facts: RunFacts = { crashes: 0, failpointsFired: 0, restarts: 0, commandsSent: 0, commandsFailed: 0, brokerKills: 0, toxicsAdded: 0, replays: 0, schemaRejected: 0 };
  const result: RunResult = {
    id: e.id, title: e.title, runId, seed: opts.seed, expected: e.expected, outcome: 'aborted', startedAt: new Date(t0).toISOString(),
    durationSec: 0, topic, consumerGroup, workload: { sent: 0, ok: 0, failed: 0, retried: 0, latenciesMs: [], failures: [] }, facts, probes: [], audit: null, timeline,
    window: { startSec: t0 / 1000, endSec: t0 / 1000 },
  };

  await up(c, opts.progress);
  const prom = prometheusClient(c);
  await preflight(c, loaded);

  const metrics = await RunMetrics.start(c, e.id, runId, opts.seed, e.expected);
  if (metrics.problem) note(metrics.problem);
  const pool = labPool(c, { connectionLimit: 4 });
  const rollbacks: Rollback[] = [];
  const watcher = new ServiceWatcher(c, e, { topic, consumerGroup, runId }, note, facts);
  try {
    note(`reset: fresh topic ${topic}, tables truncated, cache flushed, services restarted`);
    await resetState(c, pool, topic);
    await watcher.startAll();

    const env: FaultEnv = {
      c,
      serviceUrl: (s) => watcher.url(s),
      startService: (s, env) => watcher.start(s, env, true),
      stopService: (s) => watcher.stop(s),
      replay: async (dryRun) => {
        const r = await replayDlq(c, { topic, dryRun, maxRate: 0 });
        return { inDlq: r.inDlq, selected: r.selected, replayed: r.replayed };
      },
      note,
      topic,
    };
    const fire = async (step: Step) => {
      if (opts.signal?.aborted) throw new Interrupted();
      if (step.fault.type === 'failpoint') watcher.rearmOnRestart(step.fault);
      const applied = await applyFault(env, step.fault, { index: e.method.indexOf(step), name: step.name });
      note(applied.description, applied.data);
      for (const [fact, n] of Object.entries(applied.facts ?? {})) facts[fact as keyof RunFacts] += n;
      if (applied.rollback) rollbacks.push(applied.rollback);
    };

    for (const step of e.method.filter((s) => s.at === 'start')) await fire(step);
    watcher.watch();
    result.window.startSec = Date.now() / 1000;
    if (e.scenario) {
      result.audit = await runScenario(e, { c, pool, prom, runId, topic, consumerGroup, seed: opts.seed, full: !!opts.full, fire, note, facts, progress: opts.progress, signal: opts.signal, serviceUrl: (s) => watcher.url(s), startService: (s, env) => watcher.start(s, env, true) });
      watcher.stopWatching();
      await runRollbacks(rollbacks, note);
      await sleep(e.quiescence.settleMs);
      result.window.endSec = Date.now() / 1000;
      result.probes = await evaluateProbes(e['steady-state-hypothesis'].probes, prom, {
        runId, windowSec: result.window.endSec - t0 / 1000 + 5, endSec: result.window.endSec, audit: result.audit.figures, facts,
      });
      result.outcome = result.probes.every((p) => p.ok) ? 'completed' : 'deviated';
      return result;
    }
    const workload = e.workload!; // the loader requires one of workload / scenario
    result.workload = await runWorkload(c, e, opts.seed, {
      commandUrl: () => watcher.url('command-service'),
      queryUrl: workload.readBack ? () => watcher.url('query-service') : undefined,
      steps: e.method.filter((s) => typeof s.at === 'object'),
      fire,
      progress: opts.progress,
      signal: opts.signal,
    });
    if (opts.signal?.aborted) throw new Interrupted();
    facts.commandsSent = result.workload.sent;
    facts.commandsFailed = result.workload.failed;
    note(`workload done: ${result.workload.ok}/${result.workload.sent} commands accepted, ${result.workload.failed} failed`);

    await waitQuiescence(c, pool, e, { topic, consumerGroup }, note, watcher, opts.signal, opts.progress);
    for (const step of e.method.filter((s) => s.at === 'quiescence')) {
      await fire(step);
      await waitQuiescence(c, pool, e, { topic, consumerGroup }, note, watcher, opts.signal, opts.progress);
    }
    const readBack = workload.readBack ? await readThroughQueryService(watcher.url('query-service'), workload.products) : undefined;
    watcher.stopWatching();

    // Faults off before judging: the audit reads the real data, not a degraded view of it.
    await runRollbacks(rollbacks, note);
    await sleep(e.quiescence.settleMs); // let Prometheus scrape the final counter values
    result.window.endSec = Date.now() / 1000;
    note('audit: reading command_log, the whole topic and DLQ, the ledger and the read model');
    result.audit = await audit(c, pool, { topic, consumerGroup, readBack });
    if (e.timeSeries) result.audit = { ...result.audit, ...(await collectTimeSeries(e, prom, { runId, startSec: result.window.startSec, endSec: result.window.endSec })) };
    result.probes = await evaluateProbes(e['steady-state-hypothesis'].probes, prom, {
      runId, windowSec: result.window.endSec - t0 / 1000 + 5, endSec: result.window.endSec, audit: result.audit.figures, facts,
    });
    result.outcome = result.probes.every((p) => p.ok) ? 'completed' : 'deviated';
  } catch (err) {
    result.outcome = err instanceof Interrupted ? 'interrupted' : 'aborted';
    result.error = (err as Error).message;
    throw Object.assign(err as Error, { partialResult: result });
  } finally {
    watcher.stopWatching();
    await runRollbacks(rollbacks, note);
    // The file's declared rollbacks; the engine's own (toxics healed, services stopped) run regardless.
    for (const rb of e.rollbacks) {
      if (rb.type === 'heal') await heal(c).catch(() => {});
      if (rb.type === 'disarm-failpoints') for (const s of Object.keys(e.services)) await fetch(`${watcher.url(s)}/failpoints`, { method: 'DELETE' }).catch(() => {});
      note(`rollback (declared): ${rb.name}`);
    }
    await healToxics(c);
    await watcher.stopAll();
    await pool.end().catch(() => {});
    result.durationSec = (Date.now() - t0) / 1000;
    await metrics.finish(result).catch(() => {}); // dashboards' verdict panels; never fails the run
  }
  return result;
}

type ScenarioRun = Omit<import('./scenarios/types').ScenarioContext<unknown>, 'experiment' | 'params' | 'steps'>;

/** A scenario's workload and audit in place of the command stream's; its figures feed the same probes. */
async function runScenario(e: Experiment, ctx: ScenarioRun): Promise<AuditResult> {
  const { kind, ...raw } = e.scenario!;
  const sc = scenarioFor(kind)!; // the loader rejected unknown kinds
  const params = sc.params.parse(raw);
  ctx.note(`scenario ${kind}${ctx.full ? ' (--full)' : ''}: ${sc.summary}`);
  const out = await sc.run({ ...ctx, experiment: e, params, steps: e.method.filter((s) => s.at !== 'start') });
  for (const f of sc.figures) if (typeof out.figures[f] !== 'number') throw new Error(`scenario ${kind} did not report its figure ${f}`);
  return { figures: out.figures, sections: out.sections, plots: out.plots, data: out.data, ids: { lostBeforeTopic: [], notApplied: [], duplicateEffects: [], topicDuplicates: [], staleReads: [] } };
}

async function runRollbacks(rollbacks: Rollback[], note: (w: string) => void) {
  while (rollbacks.length) {
    const rb = rollbacks.pop()!;
    await rb.run().catch(() => {});
    note(`rollback: ${rb.name}`);
  }
}

/**
 * What needs the running stack to check: PromQL that Prometheus rejects, service modes the services would
 * refuse. Either makes the experiment invalid — rejected before any reset, service start or fault.
 */
export async function preflight(c: LabConfig, loaded: LoadedExperiment): Promise<void> {
  const problems: string[] = [];
  const prom = prometheusClient(c);
  for (const p of loaded.experiment['steady-state-hypothesis'].probes) {
    if (p.type !== 'promql') continue;
    await prom.query(renderQuery(p.query, 'preflight', 60)).catch((err: Error) => problems.push(`probe "${p.name}": ${err.message}`));
  }
  for (const [service, setup] of Object.entries(loaded.experiment.services)) {
    try {
      validateModes(service, setup.modes);
    } catch (err) {
      problems.push(`services.${service}.modes: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new InvalidExperimentError(loaded.file, problems);
}

async function resetState(c: LabConfig, pool: Pool, topic: string) {
  const sup = supervisorFor(c);
  // Only the default-named services (query-service-2 included): other instances belong to tests and benchmarks.
  for (const rec of sup.list()) if ((SERVICE_NAMES as string[]).includes(rec.name)) await stopService(c, rec.name);
  await healToxics(c);
  await ensureMigrated(c); // a fresh database has no tables yet
  for (const sql of RESET_SQL) await pool.query(sql);
  const redis = labRedis(c);
  for (let cursor = '0'; ; ) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${EXP_CACHE_PREFIX}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    if ((cursor = next) === '0') break;
  }
  redis.disconnect();
  // Earlier runs' topics go: each run gets a fresh topic, and old partitions only slow the brokers down.
  const admin = labKafka(c, 'lab-engine').admin();
  await admin.connect();
  const old = (await admin.listTopics()).filter((t) => t.startsWith('lab.exp.'));
  if (old.length) await admin.deleteTopics({ topics: old, timeout: 30_000 }).catch(() => {});
  await admin.disconnect();
  await ensureTopics(labKafka(c, 'lab-engine'), [topic, dlqTopic(topic)]);
}


async function readThroughQueryService(url: string, products: number): Promise<{ productId: number; version: number }[]> {
  const out: { productId: number; version: number }[] = [];
  for (let id = 1; id <= products; id++) {
    const res = await fetch(`${url}/products/${id}`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (!res?.ok) continue;
    const body = (await res.json()) as { version?: number; product?: { version?: number } };
    out.push({ productId: id, version: Number(body.version ?? body.product?.version ?? 0) });
  }
  return out;
}
