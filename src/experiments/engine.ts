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
import { ensureMigrated, SERVICE_NAMES, startService, stopService, validateModes } from '../runtime/services';
import { heal } from '../chaos/heal';
import { LabError } from '../lib/errors';
import { healToxics, prometheusClient, supervisorFor, up } from '../runtime/stack';
import { replayDlq } from '../services/replay-worker/replay';
import { audit, type AuditResult } from './audit';
import { applyFault, armFailpoint, type FaultContext, type Rollback } from './faults';
import { InvalidExperimentError, type LoadedExperiment } from './loader';
import { runWorkload, type WorkloadStats } from './runner';
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
const EXP_CACHE_PREFIX = 'lab:query:exp:';
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
  const facts: RunFacts = { crashes: 0, failpointsFired: 0, restarts: 0, commandsSent: 0, commandsFailed: 0, brokerKills: 0, toxicsAdded: 0, replays: 0 };
  const result: RunResult = {
    id: e.id, title: e.title, runId, seed: opts.seed, expected: e.expected, outcome: 'aborted', startedAt: new Date(t0).toISOString(),
    durationSec: 0, topic, consumerGroup, workload: { sent: 0, ok: 0, failed: 0, retried: 0, latenciesMs: [], failures: [] }, facts, probes: [], audit: null, timeline,
    window: { startSec: t0 / 1000, endSec: t0 / 1000 },
  };

  await up(c, opts.progress);
  const prom = prometheusClient(c);
  await preflight(c, loaded);

  const pool = labPool(c, { connectionLimit: 4 });
  const rollbacks: Rollback[] = [];
  const watcher = new ServiceWatcher(c, e, { topic, consumerGroup, runId }, note, facts);
  try {
    note(`reset: fresh topic ${topic}, tables truncated, cache flushed, services restarted`);
    await resetState(c, pool, topic);
    await watcher.startAll();

    const ctx: FaultContext = {
      c,
      serviceUrl: (s) => watcher.url(s),
      startService: (s, env) => watcher.start(s, env, true),
      stopService: (s) => watcher.stop(s),
      replay: async (dryRun) => {
        facts.replays += dryRun ? 0 : 1;
        const r = await replayDlq(c, { topic, dryRun, maxRate: 0 });
        return { inDlq: r.inDlq, selected: r.selected, replayed: r.replayed };
      },
      note,
    };
    const fire = async (step: Step) => {
      if (opts.signal?.aborted) throw new Interrupted();
      if (step.fault.type === 'toxic') facts.toxicsAdded++;
      if (step.fault.type === 'broker' && step.fault.action === 'kill') facts.brokerKills++;
      if (step.fault.type === 'failpoint') watcher.rearmOnRestart(step.fault);
      const rb = await applyFault(ctx, step.fault, e.method.indexOf(step));
      if (rb) rollbacks.push(rb);
    };

    for (const step of e.method.filter((s) => s.at === 'start')) await fire(step);
    watcher.watch();
    result.window.startSec = Date.now() / 1000;
    result.workload = await runWorkload(c, e, opts.seed, {
      commandUrl: () => watcher.url('command-service'),
      queryUrl: e.workload.readBack ? () => watcher.url('query-service') : undefined,
      steps: e.method.filter((s) => typeof s.at === 'object'),
      fire,
      progress: opts.progress,
      signal: opts.signal,
    });
    if (opts.signal?.aborted) throw new Interrupted();
    facts.commandsSent = result.workload.sent;
    facts.commandsFailed = result.workload.failed;
    note(`workload done: ${result.workload.ok}/${result.workload.sent} commands accepted, ${result.workload.failed} failed`);

    await waitQuiescence(c, pool, e, { topic, consumerGroup }, note, watcher, opts.signal);
    for (const step of e.method.filter((s) => s.at === 'quiescence')) {
      await fire(step);
      await waitQuiescence(c, pool, e, { topic, consumerGroup }, note, watcher, opts.signal);
    }
    const readBack = e.workload.readBack ? await readThroughQueryService(watcher.url('query-service'), e.workload.products) : undefined;
    watcher.stopWatching();

    // Faults off before judging: the audit reads the real data, not a degraded view of it.
    await runRollbacks(rollbacks, note);
    await sleep(e.quiescence.settleMs); // let Prometheus scrape the final counter values
    result.window.endSec = Date.now() / 1000;
    note('audit: reading command_log, the whole topic and DLQ, the ledger and the read model');
    result.audit = await audit(c, pool, { topic, consumerGroup, readBack });
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
  }
  return result;
}

class Interrupted extends LabError {
  constructor() {
    super('interrupted (Ctrl-C): faults rolled back, services stopped', { exitCode: 130 });
  }
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

/** Outbox drained (if a relay runs) and the consumer group caught up (if a consumer runs), or the bounded timeout. */
async function waitQuiescence(c: LabConfig, pool: Pool, e: Experiment, run: { topic: string; consumerGroup: string }, note: (w: string) => void, watcher: ServiceWatcher, signal?: AbortSignal) {
  const t = Date.now();
  const deadline = t + e.quiescence.timeoutMs;
  const admin = labKafka(c, 'lab-engine').admin();
  await admin.connect();
  let last = '';
  try {
    for (;;) {
      let backlog = 0;
      if ('outbox-relay' in e.services) {
        const [[row]] = (await pool.query('SELECT COUNT(*) AS n FROM outbox WHERE topic = ? AND published_at IS NULL', [run.topic])) as unknown as [{ n: number }[]];
        backlog = Number(row.n);
      }
      if (signal?.aborted) throw new Interrupted();
      // Every group that must have seen every event: the consumer's, and each query-service's invalidations.
      // A crashed consumer that is being restarted still counts: its lag is exactly what we wait for.
      const groups = [
        ...('consumer-service' in e.services && !watcher.stopped('consumer-service') ? [run.consumerGroup] : []),
        ...['query-service', 'query-service-2'].filter((q) => q in e.services && !watcher.stopped(q)).map((q) => `${run.consumerGroup}-${q}`),
      ];
      let lag = 0;
      const ends = await admin.fetchTopicOffsets(run.topic);
      for (const groupId of groups) {
        const committed = await admin.fetchOffsets({ groupId, topics: [run.topic] });
        const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
        lag += ends.reduce((a, p) => a + Math.max(0, Number(p.high) - Math.max(0, done.get(p.partition) ?? 0)), 0);
      }
      last = `outbox backlog ${backlog}, lag ${lag} over ${groups.length} group(s)`;
      if (backlog === 0 && lag === 0) break;
      if (Date.now() > deadline) {
        note(`quiescence not reached in ${e.quiescence.timeoutMs} ms (${last}); judging anyway`);
        return;
      }
      await sleep(500);
    }
  } finally {
    await admin.disconnect();
  }
  note(`quiescent after ${((Date.now() - t) / 1000).toFixed(1)} s (${last})`);
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

/**
 * Starts the experiment's services and, like an orchestrator, restarts any that dies (a crash failpoint fired):
 * each death is a fact of the run, and a failpoint with `repeat` is armed again in the new process.
 */
class ServiceWatcher {
  private urls = new Map<string, string>();
  private envOverrides = new Map<string, Record<string, string>>();
  private rearm = new Map<string, { fault: Extract<Step['fault'], { type: 'failpoint' }>; left: number }[]>();
  private timer?: NodeJS.Timeout;
  private busy = false;
  private starting = false;
  private counted = new Set<number>();
  private expectedDown = new Set<string>();

  constructor(
    private c: LabConfig,
    private e: Experiment,
    private run: { topic: string; consumerGroup: string; runId: string },
    private note: (w: string, d?: Record<string, unknown>) => void,
    private facts: RunFacts,
  ) {}

  url(service: string): string {
    const u = this.urls.get(service);
    if (!u) throw new Error(`${service} is not part of this experiment`);
    return u;
  }

  running(service: string): boolean {
    return supervisorFor(this.c).isAlive(service);
  }

  /** Deliberately stopped by a step (not crashed): nothing to wait for from it. */
  stopped(service: string): boolean {
    return this.expectedDown.has(service) && !this.running(service);
  }

  async startAll() {
    for (const s of SERVICE_NAMES) if (s in this.e.services) await this.start(s);
  }

  async start(service: string, env?: Record<string, string>, deliberate = false) {
    if (env) this.envOverrides.set(service, { ...this.envOverrides.get(service), ...env });
    // A deliberate (re)start stops the process first: the crash watcher must not take that gap for a crash.
    if (deliberate) this.expectedDown.add(service);
    const setup = this.e.services[service as keyof Experiment['services']]!;
    this.starting = true;
    const started = await startService(this.c, service, {
      modes: setup.modes,
      env: {
        LAB_TOPIC: this.run.topic,
        LAB_CONSUMER_GROUP: this.run.consumerGroup,
        LAB_QUERY_GROUP: `${this.run.consumerGroup}-${service}`,
        LAB_RUN_ID: this.run.runId,
        QUERY_CACHE_PREFIX: EXP_CACHE_PREFIX,
        ...(service === 'query-service-2' ? { SERVICE_INSTANCE: '2' } : {}),
        ...setup.env,
        ...this.envOverrides.get(service),
      },
    }).finally(() => (this.starting = false));
    this.urls.set(service, started.url);
    if (deliberate) this.expectedDown.delete(service);
  }

  async stop(service: string) {
    this.expectedDown.add(service);
    await stopService(this.c, service);
  }

  rearmOnRestart(fault: Extract<Step['fault'], { type: 'failpoint' }>) {
    if (fault.action !== 'crash' || fault.repeat <= 1) return;
    const list = this.rearm.get(fault.service) ?? [];
    list.push({ fault, left: fault.repeat - 1 });
    this.rearm.set(fault.service, list);
  }

  watch() {
    this.timer = setInterval(() => void this.tick(), 250);
  }

  stopWatching() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick() {
    if (this.busy || this.starting) return;
    this.busy = true;
    try {
      for (const [service, setup] of Object.entries(this.e.services)) {
        if (!setup.restartOnCrash || this.running(service) || this.expectedDown.has(service)) continue;
        // One death is one crash, however many restart attempts it takes.
        const pid = supervisorFor(this.c).read(service)?.pid ?? -1;
        if (!this.counted.has(pid)) {
          this.counted.add(pid);
          this.facts.crashes++;
          this.facts.failpointsFired++;
          this.note(`${service} died (crash #${this.facts.crashes}); restarting it`);
        }
        await this.start(service);
        this.facts.restarts++;
        for (const r of this.rearm.get(service) ?? []) {
          if (r.left <= 0) continue;
          r.left--;
          await armFailpoint((s) => this.url(s), r.fault);
          this.note(`re-armed ${r.fault.failpoint} on ${service} (${r.left} more after this)`);
        }
      }
    } catch (err) {
      this.note(`restart failed: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      this.busy = false;
    }
  }

  async stopAll() {
    for (const s of Object.keys(this.e.services)) await stopService(this.c, s).catch(() => {});
  }
}
