import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { labPaths, type LabConfig } from '../../lib/config';
import { REDIS_CLUSTER_NODES } from '../../lib/redis';
import type { Component } from './component';
import { toxiproxyUrl } from './toxiproxy';

/** 3 masters + 3 replicas: the smallest cluster where a master can fail over to a replica of its own. */
export const CLUSTER_NODE_COUNT = REDIS_CLUSTER_NODES;
export const CLUSTER_SLOTS = 16384;
export const CLUSTER_NODE_PREFIX = 'redis-cluster-';
/**
 * How long a node may be unreachable before the others mark it failed and its replica takes over. The default
 * (15 s) would make every failover experiment mostly waiting; 3 s still rides out a loaded 2-core box's stalls.
 */
export const CLUSTER_NODE_TIMEOUT_MS = 3000;

export interface ClusterNode {
  /** 1..6 */
  index: number;
  /** supervisor name, pidfile and log file: redis-cluster-1 … */
  name: string;
  /** the Toxiproxy proxy that fronts the node's client port, named like the node */
  proxy: string;
  /** where clients connect and what the node announces in MOVED/ASK and CLUSTER SLOTS */
  proxyPort: number;
  /** where redis-server listens for clients (reached only by its proxy and the exporter) */
  nodePort: number;
  /** the cluster bus, direct: gossip and failover votes do not cross Toxiproxy */
  busPort: number;
}

export function clusterNodes(c: LabConfig): ClusterNode[] {
  return Array.from({ length: CLUSTER_NODE_COUNT }, (_, i) => ({
    index: i + 1,
    name: `${CLUSTER_NODE_PREFIX}${i + 1}`,
    proxy: `${CLUSTER_NODE_PREFIX}${i + 1}`,
    proxyPort: c.ports.redisClusterProxy + i,
    nodePort: c.ports.redisClusterNode + i,
    busPort: c.ports.redisClusterBus + i,
  }));
}

export const clusterDir = (c: LabConfig) => path.join(labPaths(c).data, 'redis-cluster');

/** The node's redis-server arguments. No persistence, like the standalone cache: a restarted node rejoins empty. */
export function clusterNodeArgs(c: LabConfig, n: ClusterNode): string[] {
  const dir = path.join(clusterDir(c), String(n.index));
  // prettier-ignore
  return [
    '--port', String(n.nodePort), '--bind', c.host, '--dir', dir, '--daemonize', 'no',
    '--save', '', '--appendonly', 'no', '--maxclients', '2000',
    '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
    '--cluster-node-timeout', String(CLUSTER_NODE_TIMEOUT_MS), '--cluster-port', String(n.busPort),
    '--cluster-announce-ip', c.host, '--cluster-announce-port', String(n.proxyPort), '--cluster-announce-bus-port', String(n.busPort),
  ];
}

/** A client straight to one node's own port (not through its proxy), that fails instead of retrying. */
export function directNodeClient(c: LabConfig, port: number): Redis {
  const r = new Redis({ host: c.host, port, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {}); // surfaced by the command that fails
  return r;
}

export async function withNode<T>(c: LabConfig, port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = directNodeClient(c, port);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** The proxy exists (created once; Toxiproxy keeps it until it stops) and is enabled. */
async function ensureProxy(c: LabConfig, n: ClusterNode): Promise<void> {
  const base = toxiproxyUrl(c);
  const got = await fetch(`${base}/proxies/${n.proxy}`, { signal: AbortSignal.timeout(3000) });
  if (got.ok) return;
  const res = await fetch(`${base}/proxies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: n.proxy, listen: `${c.host}:${n.proxyPort}`, upstream: `${c.host}:${n.nodePort}`, enabled: true }),
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok && res.status !== 409) throw new Error(`toxiproxy refused proxy ${n.proxy}: ${res.status} ${await res.text()}`);
}

/**
 * One component per node. Only `chaos up --redis cluster` starts them (src/runtime/redis-cluster-up.ts creates the
 * cluster once all six answer); `chaos down` stops them with the rest.
 */
export function redisClusterComponents(c: LabConfig): Component[] {
  return clusterNodes(c).map((n) => ({
    name: n.name,
    ports: [
      { key: 'redisClusterNode', port: n.nodePort },
      { key: 'redisClusterBus', port: n.busPort },
    ],
    async prepare() {
      fs.mkdirSync(path.join(clusterDir(c), String(n.index)), { recursive: true });
      await ensureProxy(c, n);
    },
    spec: () => ({ name: n.name, command: '/usr/bin/redis-server', args: clusterNodeArgs(c, n) }),
    healthy: () => withNode(c, n.nodePort, async (r) => (await r.ping()) === 'PONG'),
    startTimeoutMs: 15_000,
  }));
}

/**
 * One redis_exporter for the six nodes, scraped in its multi-target mode (/scrape?target=…): Prometheus asks it
 * for each node's own port in turn (not the proxies: a toxic must not blind the metrics). /metrics, its own
 * target, serves node 1 and is what the health probe reads.
 */
export function redisClusterExporterComponent(c: LabConfig): Component {
  const first = clusterNodes(c)[0];
  return {
    name: 'redis-cluster-exporter',
    ports: [{ key: 'redisClusterExporter', port: c.ports.redisClusterExporter }],
    async prepare() {},
    spec: () => ({
      name: 'redis-cluster-exporter',
      command: '/usr/bin/prometheus-redis-exporter',
      args: ['-redis.addr', `redis://${c.host}:${first.nodePort}`, '-web.listen-address', `${c.host}:${c.ports.redisClusterExporter}`],
    }),
    healthy: async () => (await fetch(`http://${c.host}:${c.ports.redisClusterExporter}/metrics`, { signal: AbortSignal.timeout(1500) })).ok,
    startTimeoutMs: 15_000,
  };
}

/** Prometheus' job for the cluster: one target per node, each scraped through the exporter's /scrape. */
export function redisClusterScrapeJob(c: LabConfig): object {
  return {
    job_name: 'redis-cluster',
    metrics_path: '/scrape',
    static_configs: clusterNodes(c).map((n) => ({ targets: [`redis://${c.host}:${n.nodePort}`], labels: { node: n.name } })),
    relabel_configs: [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: `${c.host}:${c.ports.redisClusterExporter}` },
    ],
  };
}
