import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { bestEffort } from '../lib/best-effort';
import type { LabConfig } from '../lib/config';
import { ComponentStartError } from '../lib/errors';
import { waitFor } from '../lib/wait';
import {
  CLUSTER_NODE_COUNT,
  CLUSTER_SLOTS,
  clusterDir,
  clusterNodes,
  redisClusterComponents,
  redisClusterExporterComponent,
  withNode,
} from './components/redis-cluster';
import { toxiproxyUrl } from './components/toxiproxy';
import { isPortFree } from './ports';
import type { Progress } from './progress';
import { gate, startGroup, type StartLog } from './start';
import type { Supervisor } from './supervisor';

const run = promisify(execFile);

/** CLUSTER INFO as a map: cluster_state, cluster_slots_ok, cluster_known_nodes, … */
export function parseClusterInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

export interface ClusterView {
  /** one entry per node, read from the node's own port */
  nodes: {
    name: string;
    state: string;
    slotsOk: number;
    knownNodes: number;
    role: string;
    linkUp: boolean;
    /** every slot range this node reports names a master and one replica (gossip has reached it) */
    rangesReplicated: boolean;
  }[];
}

/** Each node's view of the cluster, read directly (a toxic on a proxy must not fail the health probe). */
export async function clusterView(c: LabConfig): Promise<ClusterView> {
  const nodes = await Promise.all(
    clusterNodes(c).map((n) =>
      withNode(c, n.nodePort, async (r) => {
        const info = parseClusterInfo(String(await r.call('CLUSTER', 'INFO')));
        const repl = parseClusterInfo(await r.info('replication'));
        const ranges = (await r.call('CLUSTER', 'SLOTS')) as unknown[][];
        return {
          name: n.name,
          state: info.cluster_state ?? 'unknown',
          slotsOk: Number(info.cluster_slots_ok ?? 0),
          knownNodes: Number(info.cluster_known_nodes ?? 0),
          role: repl.role ?? 'unknown',
          linkUp: repl.master_link_status === 'up',
          rangesReplicated: ranges.length > 0 && ranges.every((range) => range.length === 4),
        };
      }),
    ),
  );
  return { nodes };
}

/**
 * Healthy = every node says cluster_state:ok with all 16384 slots served, knows all six and a replica for every
 * slot range, and each of the three masters has a replica whose link is up (a failover needs one to promote).
 */
export function clusterHealthy(v: ClusterView): boolean {
  const all = v.nodes.every((n) => n.state === 'ok' && n.slotsOk === CLUSTER_SLOTS && n.knownNodes === CLUSTER_NODE_COUNT && n.rangesReplicated);
  const masters = v.nodes.filter((n) => n.role === 'master').length;
  const replicasUp = v.nodes.filter((n) => n.role === 'slave' && n.linkUp).length;
  return all && masters === CLUSTER_NODE_COUNT / 2 && replicasUp === CLUSTER_NODE_COUNT / 2;
}

/** `redis-cli --cluster create` over the proxies' addresses, so the cluster knows each node as its proxy. */
async function createCluster(c: LabConfig): Promise<void> {
  const addrs = clusterNodes(c).map((n) => `${c.host}:${n.proxyPort}`);
  try {
    await run('/usr/bin/redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 90_000 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new ComponentStartError('redis cluster', `redis-cli --cluster create failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/**
 * Starts the six nodes (after the standalone stack is healthy: their proxies live in its Toxiproxy), creates the
 * cluster when none exists yet, and returns when the cluster is healthy. A node that was killed restarts with its
 * nodes.conf and rejoins (as a replica of whoever took its slots); with no node running, old state is wiped first.
 */
export async function upRedisCluster(c: LabConfig, sup: Supervisor, progress: Progress, log: StartLog): Promise<void> {
  const comps = redisClusterComponents(c);
  if (!comps.some((x) => sup.isAlive(x.name))) fs.rmSync(clusterDir(c), { recursive: true, force: true });
  await startGroup(sup, comps, progress, log);
  const view = await clusterView(c);
  if (view.nodes.every((n) => n.knownNodes === 1 && n.slotsOk === 0)) {
    const t = Date.now();
    await createCluster(c);
    progress.done('redis cluster created', t);
  }
  await gate('redis cluster: 16384 slots, 3 masters with a replica each', progress, async () => clusterHealthy(await clusterView(c)), 90_000);
  await startGroup(sup, [redisClusterExporterComponent(c)], progress, log);
}

/** Stops the six nodes, removes their proxies and waits for their ports: the standalone stack keeps running. */
export async function downRedisCluster(c: LabConfig, sup: Supervisor): Promise<string[]> {
  const stopped: string[] = [];
  for (const comp of [...redisClusterComponents(c), redisClusterExporterComponent(c)].reverse()) if (await sup.stop(comp.name)) stopped.push(comp.name);
  for (const n of clusterNodes(c))
    await bestEffort(fetch(`${toxiproxyUrl(c)}/proxies/${n.proxy}`, { method: 'DELETE', signal: AbortSignal.timeout(3000) }), `deleting the ${n.proxy} proxy (a restarted Toxiproxy drops it anyway)`);
  const ports = clusterNodes(c).flatMap((n) => [n.proxyPort, n.nodePort, n.busPort]);
  await waitFor('redis cluster ports to be released', async () => (await Promise.all(ports.map((p) => isPortFree(p)))).every(Boolean), { timeoutMs: 10_000, intervalMs: 100 }).catch(() => {}); // bounded wait only: a port still busy is reported by the next `up`
  fs.rmSync(clusterDir(c), { recursive: true, force: true });
  return stopped;
}

/** One node as `chaos status` and the UI show it; a node that is down or does not answer has only its name. */
export interface ClusterNodeState {
  name: string;
  proxyPort: number;
  running: boolean;
  role?: string;
  state?: string;
  /** slots this node serves as a master (0 for a replica) */
  slots?: number;
  /** the replication offset: a replica behind its master has a lower one */
  replOffset?: number;
  /** a replica's link to its master */
  masterLinkUp?: boolean;
}

/** Every node's role, slots and replication offset, read at its own port; one that does not answer is listed down. */
export async function clusterNodeStates(c: LabConfig, sup: Supervisor): Promise<ClusterNodeState[]> {
  return Promise.all(
    clusterNodes(c).map(async (n) => {
      const base = { name: n.name, proxyPort: n.proxyPort, running: sup.isAlive(n.name) };
      if (!base.running) return base;
      try {
        return await withNode(c, n.nodePort, async (r) => {
          const info = parseClusterInfo(String(await r.call('CLUSTER', 'INFO')));
          const repl = parseClusterInfo(await r.info('replication'));
          const ranges = (await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
          const slots = ranges.filter((range) => range[2][1] === n.proxyPort).reduce((sum, [from, to]) => sum + to - from + 1, 0);
          return {
            ...base,
            role: repl.role === 'slave' ? 'replica' : repl.role,
            state: info.cluster_state,
            slots,
            replOffset: Number(repl.master_repl_offset ?? repl.slave_repl_offset ?? 0),
            ...(repl.role === 'slave' ? { masterLinkUp: repl.master_link_status === 'up' } : {}),
          };
        });
      } catch {
        return base; // a node that does not answer INFO is listed with what the supervisor knows (down)
      }
    }),
  );
}
