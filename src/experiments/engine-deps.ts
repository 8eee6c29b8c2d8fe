import type { Pool } from 'mysql2/promise';
import { applyFault, FaultSchema, type Fault } from '../chaos/faults';
import type { AppliedFault, FaultEnv } from '../chaos/faults/types';
import { heal } from '../chaos/heal';
import type { LabConfig } from '../lib/config';
import { labPool } from '../lib/db';
import { dlqTopic } from '../lib/events';
import { labKafka } from '../lib/kafka';
import type { PrometheusClient } from '../lib/prometheus';
import { labRedis } from '../lib/redis';
import { ensureTopics } from '../lib/topics';
import { sleep } from '../lib/wait';
import type { Progress } from '../runtime/progress';
import type { RunPort } from '../runtime/run-port';
import { ensureMigrated, SERVICE_NAMES, stopService } from '../runtime/services';
import { healToxics, prometheusClient, supervisorFor, up } from '../runtime/stack';
import { topicReplay } from '../services/replay-worker/replay';
import type { AuditResult } from './audit';
import type { RunResult } from './result';
import type { FactName } from './facts';
import { documentedMetrics } from './preflight';
import { RunMetrics } from './run-metrics';
import type { Experiment } from './schema';
import { collectTimeSeries } from './timeseries';
import { EXP_CACHE_PREFIX, ServiceWatcher } from './watcher';
import { workloadKind, type AnyWorkloadKind } from './workloads';
import type { PrometheusReads } from './workloads/types';

/** The experiment's services during a run: started, watched (a crash restarts them), stopped. */
export interface RunServices {
  startAll(): Promise<void>;
  watch(): void;
  stopWatching(): void;
  /** throws, naming them, when a service is still running afterwards */
  stopAll(): Promise<void>;
  /** disarms every failpoint of the running services; throws naming those that did not answer */
  disarmAll(): Promise<void>;
  /** the one handle on the running services (failpoints and the DLQ replay included) */
  port(): RunPort;
  /** a `repeat` crash failpoint is armed again in each new process */
  rearmOnRestart(fault: Extract<Fault, { type: 'failpoint' }>): void;
  /** failpoint firings by failpoint name, as the services' own failpoint counters report them */
  failpointFirings(windowSec: number, atSec: number): Promise<Record<string, number>>;
}

/**
 * Everything the engine's run path touches, injected (kafkajs' Runner receives its consumer group the same way):
 * the live stack by default, fakes in the engine's unit tests.
 */
export interface EngineDeps {
  clock: { now(): number; sleep(ms: number): Promise<void> };
  stack: {
    /** `redisCluster`: the workload runs on the Redis Cluster, which plain `up` does not start */
    up(progress: Progress, opts?: { redisCluster: boolean }): Promise<void>;
    heal(): Promise<void>;
    healToxics(): Promise<void>;
  };
  prometheus: PrometheusReads;
  documentedMetrics: Set<string>;
  db: { pool(): Pool };
  /** the run's clean slate: its data wiped, a fresh topic (and DLQ) created */
  reset(pool: Pool, topic: string): Promise<void>;
  services(
    e: Experiment,
    run: { topic: string; consumerGroup: string; runId: string },
    note: (what: string) => void,
    raise: (fact: FactName, by?: number) => void,
  ): RunServices;
  workloadFor(kind: string): AnyWorkloadKind | undefined;
  parseFault(raw: unknown): Fault;
  applyFault(
    env: FaultEnv,
    fault: Fault,
    step: { index: number; name: string },
  ): Promise<AppliedFault>;
  timeSeries(
    e: Experiment,
    run: { runId: string; startSec: number; endSec: number },
  ): Promise<Pick<AuditResult, 'plots' | 'sections'>>;
  runMetrics(
    e: Experiment,
    runId: string,
    seed: number,
  ): Promise<{ problem?: string; finish(r: RunResult): Promise<void> }>;
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
  `DELETE FROM product_view_regression WHERE product_id < ${EXP_MAX_PRODUCT_ID}`,
  `DELETE FROM product WHERE id < ${EXP_MAX_PRODUCT_ID}`,
];

export function liveEngineDeps(c: LabConfig): EngineDeps {
  const prom = prometheusClient(c);
  return {
    clock: { now: () => Date.now(), sleep },
    stack: {
      up: async (progress, opts) =>
        void (await up(c, progress, opts?.redisCluster ? { redis: 'cluster' } : {})),
      heal: async () => void (await heal(c)),
      healToxics: async () => {
        if (!(await healToxics(c)))
          throw new Error('Toxiproxy did not answer: its toxics may still be in place');
      },
    },
    prometheus: prom,
    documentedMetrics: documentedMetrics(c.root),
    db: { pool: () => labPool(c, { connectionLimit: 4 }) },
    reset: (pool, topic) => resetState(c, pool, topic),
    services: (e, run, note, raise) => liveServices(c, prom, e, run, note, raise),
    workloadFor: workloadKind,
    parseFault: (raw) => FaultSchema.parse(raw),
    applyFault,
    timeSeries: (e, run) => collectTimeSeries(e, prom, run),
    runMetrics: (e, runId, seed) => RunMetrics.start(c, e.id, runId, seed, e.expected),
  };
}

function liveServices(
  c: LabConfig,
  prom: PrometheusClient,
  e: Experiment,
  run: { topic: string; consumerGroup: string; runId: string },
  note: (what: string) => void,
  raise: (fact: FactName, by?: number) => void,
): RunServices {
  const watcher = new ServiceWatcher(c, e, run, note, raise);
  const port = watcher.port(topicReplay(c, run.topic));
  return {
    startAll: () => watcher.startAll(),
    watch: () => watcher.watch(),
    stopWatching: () => watcher.stopWatching(),
    stopAll: () => watcher.stopAll(),
    port: () => port,
    rearmOnRestart: (fault) => watcher.rearmOnRestart(fault),
    disarmAll: async () => {
      const silent: string[] = [];
      for (const service of watcher.runningServices()) {
        // no answer (or a refusal) is a failure: named in the error thrown below
        await port.failpoints.disarmAll(service).catch(() => silent.push(service));
      }
      if (silent.length)
        throw new Error(`failpoints not disarmed on ${silent.join(', ')} (no answer)`);
    },
    // An absent series is a real zero here: the counter exists in a process only once a failpoint fired in it.
    failpointFirings: async (windowSec, atSec) =>
      Object.fromEntries(
        (
          await prom.query(
            `sum by (failpoint) (max_over_time(lab_failpoint_fired_total{run="${run.runId}"}[${Math.ceil(windowSec)}s]))`,
            atSec,
          )
        ).map((x) => [x.metric.failpoint, x.value]),
      ),
  };
}

async function resetState(c: LabConfig, pool: Pool, topic: string) {
  const sup = supervisorFor(c);
  // Only the default-named services (query-service-2 included): other instances belong to tests and benchmarks.
  for (const rec of sup.list())
    if ((SERVICE_NAMES as string[]).includes(rec.name)) await stopService(c, rec.name);
  await healToxics(c);
  await ensureMigrated(c); // a fresh database has no tables yet
  for (const sql of RESET_SQL) await pool.query(sql);
  const redis = labRedis(c);
  try {
    for (let cursor = '0'; ;) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${EXP_CACHE_PREFIX}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      if ((cursor = next) === '0') break;
    }
  } finally {
    redis.disconnect();
  }
  // Earlier runs' topics go: each run gets a fresh topic, and old partitions only slow the brokers down.
  const admin = labKafka(c, 'lab-engine').admin();
  await admin.connect();
  try {
    const old = (await admin.listTopics()).filter((t) => t.startsWith('lab.exp.'));
    // Best effort: a topic that will not go only costs disk; the run uses a fresh name anyway.
    if (old.length)
      await admin
        .deleteTopics({ topics: old, timeout: 30_000 })
        .catch((err: Error) => console.warn(`reset: old topics not deleted: ${err.message}`));
  } finally {
    await admin.disconnect();
  }
  await ensureTopics(labKafka(c, 'lab-engine'), [topic, dlqTopic(topic)]);
}
