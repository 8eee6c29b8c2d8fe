import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pool } from 'mysql2/promise';
import { loadConfig, type LabConfig } from '../../../src/lib/config';
import { encodeProductEvent, type ProductEvent } from '../../../src/lib/events';
import { labKafka } from '../../../src/lib/kafka';
import { migrate } from '../../../src/lib/migrations';
import { ensureTopics } from '../../../src/lib/topics';
import { waitFor } from '../../../src/lib/wait';
import { silentProgress } from '../../../src/runtime/progress';
import { up } from '../../../src/runtime/stack';
import { ensureLab } from '../../support/lab';
import { freePort } from '../../../src/runtime/ports';

/** Helpers for the query-service tests: real processes, real topics, real rows — nothing mocked. */

export const RUN = randomUUID().slice(0, 8);
/** Every test run writes its cache keys under its own prefix, so a test never touches another run's keys. */
export const testPrefix = (tag: string) => `lab:query:test-${RUN}-${tag}:`;

let seq = 0;
/** Product ids unique across runs (time-based) and within one (sequence); well inside Number.MAX_SAFE_INTEGER. */
export const uniqueId = () => Date.now() * 1000 + (seq++ % 1000);

/**
 * ensureLab(), but tolerant of another engineer's `chaos up` running at the same moment: that fails fast on the
 * stack lock (and ensureLab caches the rejection), so we wait for the lock and run the idempotent `up` ourselves.
 */
let labReady: Promise<LabConfig> | undefined;
export function labStack(): Promise<LabConfig> {
  labReady ??= ensureLab().catch(async (e) => {
    if (!/another `chaos \w+`/.test((e as Error).message)) throw e;
    const c = loadConfig();
    return waitFor(
      'the stack lock held by another `chaos up`',
      async () => {
        try {
          await up(c, silentProgress);
          return c;
        } catch (err) {
          if (/another `chaos \w+`/.test((err as Error).message)) return undefined;
          throw err;
        }
      },
      { timeoutMs: 300_000, intervalMs: 2000 },
    );
  });
  return labReady;
}

export async function ensureSchema(lab: LabConfig) {
  await migrate(lab); // the shared migrations: idempotent and safe with concurrent callers
}

export async function newTopic(lab: LabConfig, tag: string): Promise<string> {
  const topic = `lab.test.query.${tag}.${RUN}.${randomUUID().slice(0, 6)}`;
  await ensureTopics(labKafka(lab, 'query-test-admin'), [topic]);
  return topic;
}

export async function produce(lab: LabConfig, topic: string, events: ProductEvent[]) {
  const producer = labKafka(lab, 'query-test-producer').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: events.map(encodeProductEvent) });
  } finally {
    await producer.disconnect();
  }
}

export function productEvent(
  id: number,
  version: number,
  p: { name: string; price: number; stock: number },
  type: ProductEvent['type'] = 'ProductUpdated',
): ProductEvent {
  return {
    eventId: randomUUID(),
    type,
    productId: id,
    version,
    name: p.name,
    price: p.price,
    stock: p.stock,
    occurredAt: new Date().toISOString(),
  };
}

export async function insertProduct(
  pool: Pool,
  id: number,
  p: { name: string; price: number; stock: number; version?: number },
) {
  await pool.query('INSERT INTO product (id, name, price, stock, version) VALUES (?, ?, ?, ?, ?)', [
    id,
    p.name,
    p.price,
    p.stock,
    p.version ?? 1,
  ]);
}
export async function updateProduct(
  pool: Pool,
  id: number,
  p: { name: string; price: number; stock: number; version: number },
) {
  await pool.query('UPDATE product SET name = ?, price = ?, stock = ?, version = ? WHERE id = ?', [
    p.name,
    p.price,
    p.stock,
    p.version,
    id,
  ]);
}
export async function deleteProducts(pool: Pool, ids: number[]) {
  if (ids.length) await pool.query('DELETE FROM product WHERE id IN (?)', [ids]);
}

export interface ProductResponse {
  status: number;
  body: {
    product?: { id: string; name: string; price: string; stock: number; version: number };
    source?: 'cache' | 'db' | 'stale';
    version?: number;
    error?: string;
  };
  ms: number;
}

/** One query-service child process. Stopped by its own pid only. */
export class QueryService {
  readonly base: string;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly port: number,
    readonly env: Record<string, string>,
    tag: string,
  ) {
    this.base = `http://127.0.0.1:${port}`;
    this.logFile = path.join(os.tmpdir(), `lab-query-test-${RUN}-${tag}-${port}.log`);
  }

  static async start(
    tag: string,
    env: Record<string, string>,
    { waitConsumer = false } = {},
  ): Promise<QueryService> {
    const port = await freePort();
    const svc = new QueryService(port, { ...env, LAB_QUERY_SERVICE_PORT: String(port) }, tag);
    svc.spawn();
    await svc.waitHealthy(waitConsumer);
    return svc;
  }

  private spawn() {
    const root = path.resolve(__dirname, '../../../..');
    const fd = fs.openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [path.join(root, 'dist/src/services/query/main.js')], {
      cwd: root,
      env: { ...process.env, LAB_LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    child.on('exit', (code, signal) => (this.exited = { code, signal }));
    this.child = child;
  }

  get pid() {
    return this.child?.pid;
  }

  logTail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  async waitHealthy(waitConsumer: boolean) {
    await waitFor(
      `query-service on ${this.port} healthy${waitConsumer ? ' with its consumer joined' : ''}`,
      async () => {
        const h = (await (await fetch(`${this.base}/health`)).json()) as {
          status: string;
          consumer?: { joined: boolean; assignedPartitions: number };
        };
        return (
          h.status === 'ok' &&
          (!waitConsumer || (h.consumer?.joined && (h.consumer.assignedPartitions ?? 0) > 0))
        );
      },
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        abortIf: () =>
          this.exited
            ? new Error(`query-service exited (${JSON.stringify(this.exited)}):\n${this.logTail()}`)
            : undefined,
      },
    );
  }

  async get(id: number | string): Promise<ProductResponse> {
    const t = performance.now();
    const res = await fetch(`${this.base}/products/${id}`);
    const body = (await res.json()) as ProductResponse['body'];
    return { status: res.status, body, ms: performance.now() - t };
  }

  async json<T = Record<string, unknown>>(p: string, init?: RequestInit): Promise<T> {
    const res = await fetch(`${this.base}${p}`, init);
    return (await res.json()) as T;
  }

  /** POST /cache/flush: a state change, so a JSON body (the lab's HTTP guard answers 415 to a bare POST). */
  flush(): Promise<{ deleted: number }> {
    return this.json('/cache/flush', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
  }

  async stats() {
    return this.json<{
      dbQueries: number;
      concurrentLoads: number;
      dbQueriesByKey: Record<string, number>;
      refreshes: number;
      staleServes: number;
      lockWaits: number;
      singleflightCoalesced: number;
      invalidations: Record<string, number>;
      events: number;
      staleFillsRejected: number;
      cacheHits: number;
      cacheMisses: number;
    }>('/cache/stats');
  }

  /** Sum of the samples of `name` whose labels include `labels`, read from /metrics (Prometheus text format). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${this.base}/metrics`)).text();
    return sumMetric(text, name, labels);
  }

  /** Opens `n` keep-alive connections, so a burst that follows measures the service, not TCP handshakes. */
  async warm(n: number) {
    await Promise.all(
      Array.from({ length: n }, () => fetch(`${this.base}/health`).then((r) => r.arrayBuffer())),
    );
  }

  /** Deletes this service's keys (POST /cache/flush, its own prefix only), then stops it. */
  async flushAndStop() {
    if (this.child && !this.exited) await this.flush().catch(() => {});
    await this.stop();
  }

  /** SIGTERM (graceful), SIGKILL after 12 s — always by our child's pid. */
  async stop() {
    const c = this.child;
    if (!c?.pid || this.exited) return;
    const done = new Promise<void>((r) => c.once('exit', () => r()));
    process.kill(c.pid, 'SIGTERM');
    const t = setTimeout(() => {
      if (!this.exited && c.pid) process.kill(c.pid, 'SIGKILL');
    }, 12_000);
    await done;
    clearTimeout(t);
  }
}

export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[l[1]] = l[2];
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** `n` requests at once; returns them in order with status, body and client-side latency. */
export const burst = (svc: QueryService, id: number, n: number) =>
  Promise.all(Array.from({ length: n }, () => svc.get(id)));
