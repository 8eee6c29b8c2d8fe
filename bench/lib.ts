import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Kafka } from 'kafkajs';
import type { LabConfig } from '../src/lib/config';
import { dlqTopic, type ProductEvent } from '../src/lib/events';
import { ensureTopics } from '../src/lib/topics';
import { isPortFree } from '../src/runtime/ports';
import {
  instanceName,
  startService,
  stopService,
  type ServiceName,
  type StartedService,
  type StartOptions,
} from '../src/runtime/services';
import { supervisorFor } from '../src/runtime/stack';

/** Instance 7 on ports 18700-18799: never the default names/ports experiments and tests use. */
export const INSTANCE = 7;
export const RUN = randomUUID().slice(0, 8);
/** Product ids ≥ 10,000,000 so benches never touch the ids experiments seed. */
export const PRODUCT_BASE = 10_000_000 + (parseInt(RUN.slice(0, 6), 16) % 1000) * 100_000;
/** Every id a run seeds lies in [PRODUCT_BASE, PRODUCT_BASE + PRODUCT_SPAN): cleanup deletes exactly that range. */
export const PRODUCT_SPAN = 100_000;

export const log = (msg: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** The lab's one percentile (nearest rank; NaN for none, which `fmt` prints as n/a). */
export { percentile as pct } from '../src/lib/percentile';
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
export const fmt = (n: number, d = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
    : 'n/a';

const usedPorts = new Set<number>();
/** A free port in the bench range, never handed out twice in one run (a stopping service may still hold it). */
export async function freePort(): Promise<number> {
  const start = Math.floor(Math.random() * 100);
  for (let i = 0; i < 100; i++) {
    const p = 18700 + ((start + i) % 100);
    if (!usedPorts.has(p) && (await isPortFree(p))) {
      usedPorts.add(p);
      return p;
    }
  }
  throw new Error('no free port in 18700-18799');
}

/** Starts `<name>-7` on a bench port, runs fn, and always stops exactly that process. */
export async function withService<T>(
  c: LabConfig,
  name: ServiceName,
  opts: StartOptions,
  fn: (s: StartedService) => Promise<T>,
): Promise<T> {
  const proc = instanceName(name, INSTANCE);
  // After Ctrl-C (or a timeout's SIGINT) stopRunning() stops what runs; a retry must not start more behind it.
  if (interrupted) throw new Error(`bench interrupted: ${proc} not started`);
  running.add(proc);
  try {
    return await fn(
      await startService(c, name, { ...opts, instance: INSTANCE, port: await freePort() }),
    );
  } finally {
    await stopService(c, proc);
    running.delete(proc);
  }
}
/** What withService has running now: stopped on Ctrl-C, when the finally blocks will not run. */
const running = new Set<string>();
let interrupted = false;
export const stopRunning = (c: LabConfig) => {
  interrupted = true;
  return Promise.all([...running].map((p) => stopService(c, p, 3000)));
};

/**
 * A concurrent `chaos exp run` stops every service instance (ours too), DELETEs the shared tables and FLUSHDBs
 * Redis. Waits call this so a killed instance fails the run at once instead of at its timeout; `retry` reruns it.
 */
export function deadService(c: LabConfig): Error | undefined {
  const dead = [...running].find((p) => !supervisorFor(c).isAlive(p));
  return dead
    ? new Error(
        `${dead} was stopped by someone else (a concurrent experiment run stops every service instance)`,
      )
    : undefined;
}
export function assertRunning(c: LabConfig) {
  const e = deadService(c);
  if (e) throw e;
}
export async function retry<T>(what: string, fn: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= tries) throw e;
      log(`${what}: attempt ${i} failed (${(e as Error).message.split('\n')[0]}); again`);
    }
  }
}

/** Topics this run created: deleted at the end so benches do not pile up partitions in the cluster. */
export const createdTopics: string[] = [];
export async function freshTopic(kafka: Kafka): Promise<string> {
  const t = `bench.${randomUUID()}`;
  createdTopics.push(t, dlqTopic(t));
  await ensureTopics(kafka, [t, dlqTopic(t)]);
  return t;
}
export async function deleteCreatedTopics(kafka: Kafka) {
  if (!createdTopics.length) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const mine = createdTopics.filter((t) => existing.has(t));
    if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

export function productEvent(productId: number, version: number): ProductEvent {
  return {
    eventId: randomUUID(),
    type: version === 1 ? 'ProductCreated' : 'ProductUpdated',
    productId,
    version,
    name: `bench product ${productId}`,
    price: 19.99,
    stock: version,
    occurredAt: new Date().toISOString(),
  };
}

/** Keep-alive HTTP: undici's fetch adds ~0.3 ms per call on this box, which would blur a sub-ms cache hit. */
export const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 });
export function request(
  method: string,
  url: string,
  body?: unknown,
  agent: http.Agent = keepAlive,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: data
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.end(data);
  });
}
export const getJson = async <T>(url: string) => JSON.parse((await request('GET', url)).body) as T;

/** Sum of a Prometheus text-format metric's samples whose labels include `match`. */
export function metricSum(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(match).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`)))
      sum += Number(m[3]);
  }
  return sum;
}

/** Env that makes a started service write a CPU profile on exit (see cpu-prof-preload.ts for why not --cpu-prof). */
export const profileEnv = (file: string) => ({
  NODE_OPTIONS: `--require ${path.join(__dirname, 'cpu-prof-preload.js')}`,
  BENCH_CPU_PROF_FILE: file,
});
