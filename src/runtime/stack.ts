import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import * as mysql from 'mysql2/promise';
import { bestEffortOr } from '../lib/best-effort';
import { labPaths, type LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';
import { labKafka } from '../lib/kafka';
import { PrometheusClient } from '../lib/prometheus';
import { waitFor } from '../lib/wait';
import type { Component } from './components/component';
import { exporterComponents } from './components/exporters';
import { kafkaComponents } from './components/kafka';
import { kafkaOffsetsExporterComponent } from './components/kafka-offsets-exporter';
import { DB_NAME, DB_PASSWORD, DB_USER, mariadbComponent } from './components/mariadb';
import { INFRA_JOBS, prometheusComponent } from './components/prometheus';
import { redisComponent } from './components/redis';
import { clusterDir, redisClusterComponents, redisClusterExporterComponent } from './components/redis-cluster';
import { schemaRegistryComponent } from './components/schema-registry';
import { toxiproxyComponent, toxiproxyUrl } from './components/toxiproxy';
import { withStackLock } from './lock';
import { isPortFree } from './ports';
import type { Progress } from './progress';
import { ensureKafkaDist } from './provision/kafka-dist';
import { checkToolchain, ensureSystemPackages } from './provision/system-packages';
import { ensureToxiproxy, toxiproxyBinary } from './provision/toxiproxy-build';
import { upRedisCluster } from './redis-cluster-up';
import { gate, startGroup, type StartLog } from './start';
import { rssKiB, Supervisor } from './supervisor';

export const PROBE_TOPIC = 'lab.probe';

/** The infrastructure in start order. Toxiproxy first: brokers advertise its ports from their first second. */
export function infraComponents(c: LabConfig): Component[] {
  const toxiBin = () => toxiproxyBinary(c.root, labPaths(c).bin).bin;
  const infra = [toxiproxyComponent(c, toxiBin), mariadbComponent(c), redisComponent(c), ...kafkaComponents(c), ...exporterComponents(c), kafkaOffsetsExporterComponent(c), schemaRegistryComponent(c)];
  return [...infra, prometheusComponent(c, infra)];
}

export const supervisorFor = (c: LabConfig) => new Supervisor(labPaths(c).run, labPaths(c).logs);

export interface UpResult {
  started: string[];
  alreadyRunning: string[];
  seconds: number;
}

/** Provision what is missing, start what is not running, and return only when the whole stack is healthy. */
export async function up(c: LabConfig, progress: Progress, opts: UpOptions = {}): Promise<UpResult> {
  return withStackLock(labPaths(c).run, 'up', () => upLocked(c, progress, opts));
}

/** `standalone` (the default) is the one Redis behind one proxy; `cluster` adds the 6-node Redis Cluster. */
export const REDIS_TOPOLOGIES = ['standalone', 'cluster'] as const;
export type RedisTopology = (typeof REDIS_TOPOLOGIES)[number];
export interface UpOptions {
  redis?: RedisTopology;
}

async function upLocked(c: LabConfig, progress: Progress, opts: UpOptions): Promise<UpResult> {
  const t0 = Date.now();
  checkToolchain();
  await ensureSystemPackages(c.isRoot, progress);
  await ensureKafkaDist(c.root, labPaths(c).kafkaLibs, c.kafkaVersion, progress);
  await ensureToxiproxy(c.root, labPaths(c).bin, progress);

  const sup = supervisorFor(c);
  const comps = infraComponents(c);
  const log: StartLog = { started: [], alreadyRunning: [] };
  const { started, alreadyRunning } = log;
  try {
    // Kafka nodes need each other for a quorum: start the three, then wait for all of them.
    const groups: Component[][] = [];
    for (const comp of comps) {
      const last = groups[groups.length - 1];
      if (comp.name.startsWith('kafka-') && last?.[0]?.name.startsWith('kafka-')) last.push(comp);
      else groups.push([comp]);
    }
    for (const group of groups) await startGroup(sup, group, progress, log);
    await gate('kafka cluster', progress, () => kafkaClusterHealthy(c));
    await gate('mysql through toxiproxy', progress, () => mysqlThroughProxy(c));
    await gate('redis through toxiproxy', progress, () => redisThroughProxy(c));
    await gate('prometheus targets', progress, () => infraTargetsUp(c));
    if (opts.redis === 'cluster') {
      await upRedisCluster(c, sup, progress, log);
      await reloadPrometheusConfig(c, sup, comps);
    }
  } catch (e) {
    // Nothing half-started is left behind: stop what this call started, newest first.
    for (const name of [...started].reverse()) await sup.stop(name);
    throw e;
  }
  return { started, alreadyRunning, seconds: (Date.now() - t0) / 1000 };
}



/**
 * A Prometheus started by an older lab may lack a job the current config has (e.g. redis-cluster): rewrite its
 * file and send SIGHUP (a reload, not a restart) when the file changed.
 */
async function reloadPrometheusConfig(c: LabConfig, sup: Supervisor, comps: Component[]) {
  const prom = comps.find((x) => x.name === 'prometheus');
  const file = path.join(labPaths(c).conf, 'prometheus.yml');
  const read = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  const before = read();
  await prom?.prepare();
  if (read() !== before) sup.signal('prometheus', 'SIGHUP');
}

/** 3 brokers registered and a probe topic with RF=3 fully in sync, all through the proxies. */
export async function kafkaClusterHealthy(c: LabConfig): Promise<boolean> {
  const admin = labKafka(c, 'lab-health').admin();
  await admin.connect();
  try {
    const { brokers } = await admin.describeCluster();
    if (brokers.length !== c.brokerCount) return false;
    const topics = await admin.listTopics();
    if (!topics.includes(PROBE_TOPIC)) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: PROBE_TOPIC, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
      });
    }
    const md = await admin.fetchTopicMetadata({ topics: [PROBE_TOPIC] });
    return md.topics[0].partitions.every((p) => p.isr.length === c.brokerCount && p.leader >= 0);
  } finally {
    await admin.disconnect();
  }
}

export const dbConnectionOptions = (c: LabConfig) => ({ host: c.host, port: c.ports.mysql, user: DB_USER, password: DB_PASSWORD, database: DB_NAME });

async function mysqlThroughProxy(c: LabConfig): Promise<boolean> {
  const conn = await mysql.createConnection({ ...dbConnectionOptions(c), connectTimeout: 2000 });
  try {
    const [rows] = await conn.query('SELECT 1 AS ok');
    return (rows as { ok: number }[])[0].ok === 1;
  } finally {
    await conn.end();
  }
}

async function redisThroughProxy(c: LabConfig): Promise<boolean> {
  const r = new Redis({ host: c.host, port: c.ports.redis, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {}); // reported through the probe's rejection
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } finally {
    r.disconnect();
  }
}

export const prometheusClient = (c: LabConfig) => new PrometheusClient(`http://${c.host}:${c.ports.prometheus}`);

async function infraTargetsUp(c: LabConfig): Promise<boolean> {
  const samples = await prometheusClient(c).query(`up{job=~"${INFRA_JOBS.join('|')}"}`);
  const expected = infraComponents(c).filter((x) => x.scrape).length + 1;
  return samples.length === expected && samples.every((s) => s.value === 1);
}

/**
 * Every toxic removed and every proxy enabled (Toxiproxy's POST /reset). false when nothing listens on its port:
 * toxics live in its memory, so none are left. A Toxiproxy that answers an error, or nothing in time, throws.
 */
export async function healToxics(c: LabConfig): Promise<boolean> {
  const url = `${toxiproxyUrl(c)}/reset`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(5000) });
  } catch (e) {
    if ((e as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') return false;
    throw new LabError(`Toxiproxy did not answer POST ${url} (${(e as Error).message}): its toxics may still be in place; \`chaos status\` shows whether it runs, \`chaos heal\` resumes a paused one and tries again`, { cause: e });
  }
  if (!res.ok) throw new LabError(`Toxiproxy refused POST ${url}: HTTP ${res.status} ${await res.text()}; its toxics may still be in place: \`chaos down && chaos up\` restarts it without any`);
  return true;
}

export interface DownResult {
  stopped: string[];
  toxicsRemoved: boolean;
  purged: boolean;
}

/**
 * Stops everything that has a pidfile — lab services and infrastructure, newest first — after removing all
 * toxics. Works after the CLI that started them was killed, since it reads only pidfiles.
 */
export async function down(c: LabConfig, opts: { purge?: boolean } = {}): Promise<DownResult> {
  return withStackLock(labPaths(c).run, 'down', () => downLocked(c, opts));
}

async function downLocked(c: LabConfig, { purge = false }: { purge?: boolean }): Promise<DownResult> {
  // Toxiproxy stops next and its toxics die with it: a failed reset leaves nothing behind, so it is only logged.
  const toxicsRemoved = await bestEffortOr(healToxics(c), false, 'removing the toxics before stopping Toxiproxy');
  const sup = supervisorFor(c);
  // The cluster's nodes stop before the infrastructure they sit on (their proxies are in Toxiproxy).
  const order = [...infraComponents(c), ...redisClusterComponents(c), redisClusterExporterComponent(c)].map((x) => x.name);
  const recs = sup.list().sort((a, b) => rank(order, b.name) - rank(order, a.name));
  const stopped: string[] = [];
  for (const rec of recs) if (await sup.stop(rec.name)) stopped.push(rec.name);
  // A process is gone before all of its threads are: its sockets can outlive it by a moment. `down` returns
  // only once every port of ours is free again (bounded), so an `up` right after it never finds one busy.
  const ports = [...infraComponents(c), ...redisClusterComponents(c), redisClusterExporterComponent(c)].flatMap((comp) => comp.ports.map((p) => p.port));
  await waitFor('ports to be released', async () => (await Promise.all(ports.map((p) => isPortFree(p)))).every(Boolean), { timeoutMs: 10_000, intervalMs: 100 }).catch(() => {}); // bounded wait only: a port still busy is reported by the next `up`
  // A cluster's nodes.conf describes nodes that no longer run: the next `up --redis cluster` creates a new one.
  fs.rmSync(clusterDir(c), { recursive: true, force: true });
  if (purge) {
    const p = labPaths(c);
    for (const d of [p.data, p.logs, p.conf]) fs.rmSync(d, { recursive: true, force: true });
  }
  return { stopped, toxicsRemoved, purged: purge };
}

/** Services (unknown to the infra order) rank highest so they stop first. */
const rank = (order: string[], name: string) => (order.includes(name) ? order.indexOf(name) : order.length + 1);

export interface ComponentStatus {
  component: string;
  pid: number | null;
  ports: number[];
  running: boolean;
  healthy: boolean;
  rssMiB: number | null;
}

export async function status(c: LabConfig): Promise<ComponentStatus[]> {
  const sup = supervisorFor(c);
  const out: ComponentStatus[] = [];
  // The cluster's nodes are listed once any of them has a pidfile (started by `up --redis cluster`).
  const cluster = [...redisClusterComponents(c), redisClusterExporterComponent(c)];
  const withCluster = cluster.some((x) => sup.read(x.name));
  for (const comp of [...infraComponents(c), ...(withCluster ? cluster : [])]) {
    const rec = sup.read(comp.name);
    const running = sup.isAlive(comp.name);
    let healthy = false;
    if (running) healthy = await comp.healthy().catch(() => false); // a failed check is what "unhealthy" reports
    out.push({
      component: comp.name,
      pid: running && rec ? rec.pid : null,
      ports: comp.ports.map((p) => p.port),
      running,
      healthy,
      rssMiB: running && rec ? Math.round(rssKiB(rec.pid) / 1024) : null,
    });
  }
  return out;
}
