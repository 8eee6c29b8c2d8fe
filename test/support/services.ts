import { randomUUID } from 'node:crypto';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { LabConfig } from '../../src/lib/config';
import { labPool } from '../../src/lib/db';
import { dlqTopic, encodeProductEvent, type ProductEvent } from '../../src/lib/events';
import { labKafka } from '../../src/lib/kafka';
import { ensureTopics, readTopic } from '../../src/lib/topics';
import { waitFor } from '../../src/lib/wait';
import {
  ensureMigrated,
  instanceName,
  startService,
  stopService,
  waitServiceExit,
  type ServiceName,
  type StartOptions,
} from '../../src/runtime/services';
import { supervisorFor } from '../../src/runtime/stack';
import { freePort } from '../../src/runtime/ports';

/** Helpers for the service tests: real processes (via startService), real topics, real rows — nothing mocked. */

const RUN = randomUUID().slice(0, 8);
let seq = 0;
/** A topic (and its DLQ) no other test or run uses. */
export async function freshTopic(c: LabConfig, tag: string): Promise<string> {
  const topic = `lab.test.${tag}.${RUN}.${seq++}`;
  await ensureTopics(labKafka(c, 'test-admin'), [topic, dlqTopic(topic)]);
  return topic;
}
export const freshGroup = (tag: string) => `lab-test-${tag}-${RUN}-${seq++}`;
/** Product ids unique across runs and tests. */
export const uniqueId = () => Date.now() * 1000 + (seq++ % 1000);

/**
 * Deletes what earlier test runs left in the event-path tables. Scoped to test topics and groups, never a TRUNCATE:
 * experiments and other suites use the same tables at the same time. `product`/`product_view` rows are keyed by
 * unique ids, so they need no cleanup for independence.
 */
export async function resetTables(c: LabConfig, pool: Pool) {
  await ensureMigrated(c);
  await pool.query("DELETE FROM outbox WHERE topic LIKE 'lab.test.%'");
  await pool.query("DELETE FROM command_log WHERE topic LIKE 'lab.test.%'");
  await pool.query("DELETE FROM processed_event WHERE consumer_group LIKE 'lab-test-%'");
  await pool.query("DELETE FROM side_effect_ledger WHERE consumer_group LIKE 'lab-test-%'");
}

/**
 * Tests run their services as instances named `<service>-t<run>` on free ports: an experiment or another suite
 * using the default `consumer-service` on 18082 at the same moment is then never replaced by ours, nor ours by it.
 */
const INSTANCE = `t${RUN}`;
export const testServiceName = (name: ServiceName, copy = 1) =>
  instanceName(name, copy === 1 ? INSTANCE : `${INSTANCE}x${copy}`);
const ports = new Map<string, number>();

export async function startTestService(
  c: LabConfig,
  name: ServiceName,
  opts: StartOptions & { copy?: number } = {},
) {
  const proc = testServiceName(name, opts.copy);
  if (!ports.has(proc)) ports.set(proc, await freePort());
  return startService(c, name, {
    ...opts,
    instance: proc.slice(name.length + 1),
    port: ports.get(proc),
  });
}
export const waitTestServiceExit = (c: LabConfig, name: ServiceName, copy = 1) =>
  waitServiceExit(c, testServiceName(name, copy));
export const stopTestService = (c: LabConfig, name: ServiceName, copy = 1) =>
  stopService(c, testServiceName(name, copy));

/**
 * Stops every service process this test run started, and deletes the topics it created: hundreds of idle
 * partitions left behind slow every broker (and every JMX scrape) for the rest of the suite.
 */
export async function stopTestServices(c: LabConfig) {
  for (const r of supervisorFor(c).list())
    if (r.name.endsWith(`-${INSTANCE}`) || r.name.includes(`-${INSTANCE}x`))
      await stopService(c, r.name);
  const admin = labKafka(c, 'test-admin').admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter(
      (t) => t.startsWith('lab.test.') && t.includes(`.${RUN}.`),
    );
    if (mine.length) await admin.deleteTopics({ topics: mine, timeout: 30_000 }).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

export const testPool = (c: LabConfig) => labPool(c, { connectionLimit: 4 });

export function productEvent(
  productId: number,
  version: number,
  type: ProductEvent['type'] = version === 1 ? 'ProductCreated' : 'ProductUpdated',
): ProductEvent {
  return {
    eventId: randomUUID(),
    type,
    productId,
    version,
    name: `p${productId}`,
    price: 10 + version,
    stock: version,
    occurredAt: new Date().toISOString(),
  };
}

/** Produces events straight to the topic (acks=all), optionally all to one partition so their order is fixed. */
export async function produceEvents(
  c: LabConfig,
  topic: string,
  events: ProductEvent[],
  partition?: number,
) {
  const p = labKafka(c, 'test-producer').producer({ allowAutoTopicCreation: false });
  await p.connect();
  try {
    await p.send({
      topic,
      acks: -1,
      messages: events.map((e) => ({
        ...encodeProductEvent(e),
        ...(partition === undefined ? {} : { partition }),
      })),
    });
  } finally {
    await p.disconnect();
  }
}

/** How many records of `topic` carry this event id. */
export async function countInTopic(c: LabConfig, topic: string, eventId: string): Promise<number> {
  return (await readTopic(c, topic)).filter((r) => r.headers['event-id'] === eventId).length;
}

export async function ledgerCount(pool: Pool, eventId: string, group: string): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM side_effect_ledger WHERE event_id = ? AND consumer_group = ?',
    [eventId, group],
  );
  return Number(rows[0].n);
}

/** Resolves once `group` has committed the end offset of every non-empty partition of `topic`. */
export async function waitCaughtUp(c: LabConfig, group: string, topic: string, timeoutMs = 60_000) {
  const admin = labKafka(c, 'test-lag').admin();
  await admin.connect();
  try {
    await waitFor(
      `${group} to consume ${topic} to its end`,
      async () => {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        return ends.every(
          (e) =>
            e.high === '0' ||
            committed.partitions.find((p) => p.partition === e.partition)?.offset === e.high,
        );
      },
      { timeoutMs, intervalMs: 250 },
    );
  } finally {
    await admin.disconnect();
  }
}

export async function http<T = Record<string, unknown>>(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Sum of a metric's samples on a service's /metrics whose labels include `labels`. */
export async function metric(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
