import * as fs from 'node:fs';
import * as path from 'node:path';
import { portEnvVar, type LabConfig, type PortName } from '../lib/config';
import { ComponentStartError, ConfigError, PortInUseError, UnknownNameError } from '../lib/errors';
import { FAILPOINT_NAMES, type FailpointName } from '../lib/failpoints';
import { migrate } from '../lib/migrations';
import { sleep, waitFor } from '../lib/wait';
import { COMMAND_MODES } from '../services/command/config';
import { CONSUMER_MODES, VIEW_ORDERS } from '../services/consumer/config';
import { isPortFree, portHolder } from './ports';
import { supervisorFor } from './stack';
import { rssKiB } from './supervisor';

/** Query-service modes: the contract with src/services/query (built separately). */
export const CACHE_INVALIDATION_MODES = ['del', 'versioned'] as const;
export const STAMPEDE_MODES = ['none', 'singleflight', 'soft-ttl'] as const;
/** `cluster` reads and fills through the Redis Cluster of `chaos up --redis cluster` (ioredis Cluster). */
export const REDIS_MODES = ['standalone', 'cluster'] as const;

export interface ServiceDef {
  /** dist/src/services/<entry>/main.js */
  entry: string;
  portKey: PortName;
  /** env var → valid values: the service's modes */
  modes: Record<string, readonly string[]>;
  failpoints: FailpointName[];
}

/** Every lab service, in start order: producers of events before their consumers. */
export const SERVICES = {
  'command-service': { entry: 'command', portKey: 'commandService', modes: { COMMAND_MODE: COMMAND_MODES }, failpoints: ['command.after-commit-before-produce', 'tx.before-commit'] },
  'outbox-relay': { entry: 'outbox-relay', portKey: 'outboxRelay', modes: {}, failpoints: ['relay.before-publish', 'relay.after-publish-before-mark'] },
  'outbox-relay-2': { entry: 'outbox-relay', portKey: 'outboxRelay2', modes: {}, failpoints: ['relay.before-publish', 'relay.after-publish-before-mark'] },
  'consumer-service': { entry: 'consumer', portKey: 'consumerService', modes: { CONSUMER_MODE: CONSUMER_MODES, CONSUMER_VIEW_ORDER: VIEW_ORDERS }, failpoints: ['consumer.after-side-effect-before-commit', 'consumer.after-commit-before-process'] },
  'query-service': { entry: 'query', portKey: 'queryService', modes: { CACHE_INVALIDATION: CACHE_INVALIDATION_MODES, STAMPEDE: STAMPEDE_MODES, REDIS_MODE: REDIS_MODES }, failpoints: ['query.before-db-load', 'query.after-db-load-before-fill'] },
  'query-service-2': { entry: 'query', portKey: 'queryService2', modes: { CACHE_INVALIDATION: CACHE_INVALIDATION_MODES, STAMPEDE: STAMPEDE_MODES, REDIS_MODE: REDIS_MODES }, failpoints: ['query.before-db-load', 'query.after-db-load-before-fill'] },
  'replay-worker': { entry: 'replay-worker', portKey: 'replayWorker', modes: {}, failpoints: ['replay.before-publish'] },
} as const satisfies Record<string, ServiceDef>;
export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];
/** Second copies for experiments that need two instances (E-008's caches, E-011's relays): started only when asked for. */
export const SECOND_INSTANCES: readonly ServiceName[] = ['query-service-2', 'outbox-relay-2'];

/** Env the services read that must not leak from the caller's environment into a fresh start. */
const RESET_ENV = ['LAB_FAILPOINTS', 'CONSUMER_POISON'];

export function serviceDef(name: string): ServiceDef {
  if (!(name in SERVICES)) throw new UnknownNameError('service', name, SERVICE_NAMES);
  return SERVICES[name as ServiceName];
}

/** Which service a failpoint lives in; `tx.before-commit` is command-service's transaction. */
export function failpointOwners(): { failpoint: FailpointName; services: ServiceName[] }[] {
  return FAILPOINT_NAMES.map((fp) => ({ failpoint: fp, services: SERVICE_NAMES.filter((s) => (SERVICES[s].failpoints as readonly string[]).includes(fp)) }));
}

/** Rejects an unknown mode variable or value with the valid ones. */
export function validateModes(name: string, modes: Record<string, string | undefined>) {
  const def = serviceDef(name);
  for (const [k, v] of Object.entries(modes)) {
    if (v === undefined) continue;
    const valid = def.modes[k];
    if (!valid) throw new UnknownNameError(`mode variable for ${name}`, k, Object.keys(def.modes).length ? Object.keys(def.modes) : ['(none)']);
    if (!valid.includes(v)) throw new UnknownNameError(`${k} for ${name}`, v, valid);
  }
}

export interface StartOptions {
  /** e.g. { COMMAND_MODE: 'direct' }: validated against the registry */
  modes?: Record<string, string | undefined>;
  /** any other env: LAB_TOPIC, LAB_FAILPOINTS, CONSUMER_POISON, RELAY_SHARD, … */
  env?: Record<string, string | undefined>;
  /**
   * An extra copy named `<name>-<instance>`: 2, 3, … default to base port + 100 × (instance − 1); a string
   * instance (e.g. a test run's id, so suites never replace each other's processes) needs `port`.
   */
  instance?: number | string;
  port?: number;
  timeoutMs?: number;
}

export interface StartedService {
  name: string;
  pid: number;
  port: number;
  url: string;
  env: Record<string, string>;
  /** It died at a crash failpoint armed through LAB_FAILPOINTS before /health answered: expected, not a failure. */
  crashedAtFailpoint?: boolean;
}

export const instanceName = (name: string, instance?: number | string) => (instance === undefined || instance === 1 || instance === '' ? name : `${name}-${instance}`);

const migrated = new WeakMap<LabConfig, Promise<unknown>>();
/** Migrations run once per process and config before the first service starts (idempotent anyway). */
export function ensureMigrated(c: LabConfig): Promise<unknown> {
  let p = migrated.get(c);
  if (!p) {
    p = migrate(c).catch((e) => {
      migrated.delete(c);
      throw e;
    });
    migrated.set(c, p);
  }
  return p;
}

/**
 * (Re)starts one service as a supervised process (pidfile in .lab/run, log in .lab/logs) and returns once its
 * /health answers from that very pid. A running copy is stopped first so the new modes/env take effect.
 */
export async function startService(c: LabConfig, name: string, opts: StartOptions = {}): Promise<StartedService> {
  const def = serviceDef(name);
  validateModes(name, opts.modes ?? {});
  const entry = path.join(c.root, 'dist', 'src', 'services', def.entry, 'main.js');
  if (!fs.existsSync(entry)) throw new ConfigError(`${entry} is missing: run \`npm run build\`${def.entry === 'query' ? ' (query-service is built in src/services/query)' : ''}`);
  const procName = instanceName(name, opts.instance);
  if (typeof opts.instance === 'string' && opts.port === undefined) throw new ConfigError(`instance "${opts.instance}" of ${name} needs an explicit port`);
  const port = opts.port ?? c.ports[def.portKey] + 100 * (Number(opts.instance ?? 1) - 1);
  await ensureMigrated(c);
  const sup = supervisorFor(c);
  await sup.stop(procName);
  // A process that just died (e.g. at a crash failpoint) can hold its port for a moment while its threads exit.
  const free = await waitFor(`port ${port} to be released`, () => isPortFree(port), { timeoutMs: 5000, intervalMs: 100 }).catch(() => false); // timed out = still busy: reported just below
  if (!free) throw new PortInUseError(port, procName, portHolder(port), portEnvVar(def.portKey));
  const env: Record<string, string> = {};
  for (const k of RESET_ENV) env[k] = '';
  for (const [k, v] of Object.entries({ ...opts.modes, ...opts.env })) if (v !== undefined) env[k] = v;
  env[portEnvVar(def.portKey)] = String(port);
  env.LAB_SERVICE_NAME = procName;
  const rec = sup.start({ name: procName, command: process.execPath, args: [entry], env, cwd: c.root });
  fs.writeFileSync(launchFile(c, procName), JSON.stringify({ name, port, env, instance: opts.instance ?? null }));
  const url = `http://${c.host}:${port}`;
  try {
    await waitFor(`${procName} /health`, async () => {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok && ((await res.json()) as { pid?: number }).pid === rec.pid;
    }, {
      timeoutMs: opts.timeoutMs ?? 60_000,
      intervalMs: 200,
      abortIf: () => (sup.isAlive(procName) ? undefined : new ComponentStartError(procName, 'the process exited during start', sup.logFile(procName), sup.logTail(procName))),
    });
  } catch (e) {
    if (!sup.isAlive(procName) && firedCrash(sup.logTail(procName, 200))) return { name: procName, pid: rec.pid, port, url, env, crashedAtFailpoint: true };
    await sup.stop(procName);
    if (e instanceof ComponentStartError) throw e;
    throw new ComponentStartError(procName, (e as Error).message, sup.logFile(procName), sup.logTail(procName));
  }
  return { name: procName, pid: rec.pid, port, url, env };
}

/** Did the latest run in this log (after its last "=== … starting" marker) fire a crash failpoint? */
export function firedCrash(tail: string): boolean {
  const last = tail.slice(tail.lastIndexOf('\n=== '));
  return /"action":"crash"[^\n]*"msg":"failpoint fired"/.test(last);
}

/** SIGTERM (graceful), SIGKILL after the grace period. Returns whether it was running. */
export const stopService = (c: LabConfig, name: string, graceMs = 10_000) => supervisorFor(c).stop(name, graceMs);

/** Waits until a service process is gone — e.g. after a failpoint crashed it. */
export async function waitServiceExit(c: LabConfig, name: string, timeoutMs = 30_000): Promise<void> {
  const sup = supervisorFor(c);
  await waitFor(`${name} to exit`, async () => !sup.isAlive(name), { timeoutMs, intervalMs: 100 });
  await sleep(50);
}

/** Service processes are the pidfiles whose name is a registered service or an instance of one. */
const baseName = (proc: string): ServiceName | undefined => SERVICE_NAMES.find((s) => proc === s) ?? SERVICE_NAMES.find((s) => new RegExp(`^${s}-[\\w]+$`).test(proc));

export interface ServiceStatus {
  service: string;
  pid: number | null;
  port: number | null;
  running: boolean;
  healthy: boolean;
  modes: string;
  rssMiB: number | null;
}

export async function serviceStatus(c: LabConfig): Promise<ServiceStatus[]> {
  const sup = supervisorFor(c);
  const procs = new Set<string>([...SERVICE_NAMES, ...sup.list().map((r) => r.name).filter((n) => baseName(n))]);
  const out: ServiceStatus[] = [];
  for (const proc of procs) {
    const rec = sup.read(proc);
    const running = sup.isAlive(proc);
    const base = baseName(proc);
    if (!base) continue; // procs holds only lab service names (filtered above)
    const def = SERVICES[base];
    const port = readLaunch(c, proc)?.port ?? c.ports[def.portKey];
    let healthy = false;
    let modes = '';
    if (running) {
      try {
        const h = (await (await fetch(`http://${c.host}:${port}/health`, { signal: AbortSignal.timeout(1500) })).json()) as Record<string, unknown>;
        healthy = h.status === 'ok' && h.pid === rec?.pid;
        modes = ['mode', 'invalidation', 'stampede', 'topic', 'group', 'shard'].filter((k) => h[k] !== undefined).map((k) => `${k}=${String(h[k])}`).join(' ');
      } catch {
        healthy = false; // no answer in time, or not JSON: that is what "unhealthy" reports
      }
    }
    out.push({ service: proc, pid: running && rec ? rec.pid : null, port: running ? port : null, running, healthy, modes, rssMiB: running && rec ? Math.round(rssKiB(rec.pid) / 1024) : null });
  }
  return out;
}

/**
 * How a process was last started (port, env), kept next to its pidfile — not as .json, which the Supervisor reads
 * as pidfiles — so status finds instances on other ports and restart keeps the modes.
 */
const launchFile = (c: LabConfig, proc: string) => path.join(supervisorFor(c).runDir, `${proc}.launch`);
interface Launch {
  name: string;
  port: number;
  env: Record<string, string>;
  instance: number | string | null;
}
function readLaunch(c: LabConfig, proc: string): Launch | undefined {
  try {
    return JSON.parse(fs.readFileSync(launchFile(c, proc), 'utf8')) as Launch;
  } catch {
    return undefined; // never launched by startService (or its file removed): the defaults apply
  }
}

/** Restarts a service process with the env it was last started with (modes, topic, shard…), minus failpoints. */
export async function restartService(c: LabConfig, proc: string): Promise<StartedService> {
  const last = readLaunch(c, proc);
  if (!last) return startService(c, proc);
  const env = Object.fromEntries(Object.entries(last.env).filter(([k]) => k !== 'LAB_FAILPOINTS' && k !== 'LAB_SERVICE_NAME' && !k.endsWith('_PORT')));
  return startService(c, last.name, { env, instance: last.instance ?? undefined, port: last.port });
}
