import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';
import { waitFor } from '../lib/wait';
import { CLUSTER_SLOTS, clusterNodes, withNode, type ClusterNode } from './components/redis-cluster';

const run = promisify(execFile);

/** A master as the slot map shows it: its node, its cluster id and the slots it serves, lowest first. */
export interface SlotOwner {
  node: ClusterNode;
  id: string;
  ranges: [number, number][];
}

/**
 * What a resharding of `slots` slots moves: the lowest slots of the master of slot 0 (`source`) to the master of
 * slot 16383 (`target`). `redis-cli --cluster reshard` takes a source's lowest slots and cannot be told which; every
 * slot the target owns is above the ones it receives, so moving the target's lowest `slots` back returns exactly
 * those. The cluster stays as `create` made it after a move and its undo.
 */
export interface ReshardPlan {
  source: SlotOwner;
  target: SlotOwner;
  slots: number;
  /** the slots that move, as a set (for a workload choosing keys in them) */
  moving: Set<number>;
}

/** Every master and the slots it serves, as the first node sees the map (at its own port). */
export async function slotOwners(c: LabConfig): Promise<SlotOwner[]> {
  const nodes = clusterNodes(c);
  const ranges = await withNode(
    c,
    nodes[0].nodePort,
    (r) => r.call('CLUSTER', 'SLOTS') as Promise<[number, number, [string, number, string]][]>,
  ).catch((e: Error) => {
    throw new LabError(
      `the Redis Cluster's ${nodes[0].name} did not answer CLUSTER SLOTS (${e.message}): is the cluster up? Fix: \`chaos up --redis cluster\``,
      { cause: e },
    );
  });
  const masters = new Map<string, SlotOwner>();
  for (const [from, to, [, port, id]] of ranges) {
    const node = nodes.find((n) => n.proxyPort === port);
    if (!node) throw new LabError(`slot ${from}-${to} is served at port ${port}, not a lab node's proxy`);
    const m = masters.get(id) ?? { node, id, ranges: [] };
    m.ranges.push([from, to]);
    masters.set(id, m);
  }
  return [...masters.values()].map((m) => ({ ...m, ranges: m.ranges.sort((a, b) => a[0] - b[0]) }));
}

/** How many of `slots` the master with cluster id `id` serves now. */
export async function slotsServedBy(c: LabConfig, id: string, slots: Set<number>): Promise<number> {
  const owner = (await slotOwners(c)).find((m) => m.id === id);
  return [...slots].filter((slot) => owner?.ranges.some(([from, to]) => slot >= from && slot <= to)).length;
}

/** The plan for moving `slots` slots, read off the cluster's current slot map. */
export async function planReshard(c: LabConfig, slots: number): Promise<ReshardPlan> {
  const owners = await slotOwners(c);
  const owning = (slot: number) => owners.find((m) => m.ranges.some(([from, to]) => slot >= from && slot <= to));
  const source = owning(0);
  const target = owning(CLUSTER_SLOTS - 1);
  if (!source || !target || source === target)
    throw new LabError(
      'the cluster does not have slot 0 and slot 16383 on two masters: `chaos down`, then `chaos up --redis cluster`',
    );
  const moving = new Set<number>();
  for (const [from, to] of source.ranges) for (let s = from; s <= to && moving.size < slots; s++) moving.add(s);
  return { source, target, slots, moving };
}

/**
 * Waits until every node serves the same slot map: a slot handed over is announced by gossip, and a client that
 * bootstraps from a node that has not heard yet is redirected once — a redirect no workload asked for.
 */
export async function slotMapsAgree(c: LabConfig): Promise<void> {
  const view = (port: number) =>
    withNode(c, port, async (r) =>
      JSON.stringify(
        ((await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][])
          .map(([from, to, [, owner]]) => [from, to, owner])
          .sort((a, b) => a[0] - b[0]),
      ),
    );
  await waitFor(
    'every Redis Cluster node to serve the same slot map',
    async () => new Set(await Promise.all(clusterNodes(c).map((n) => view(n.nodePort)))).size === 1,
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

/**
 * `redis-cli --cluster reshard` of `slots` slots from one master to another (MIGRATING/IMPORTING, MIGRATE of each
 * slot's keys 10 at a time, SETSLOT NODE — slot by slot), then waits until every node agrees on the new map.
 */
export async function moveSlots(c: LabConfig, from: SlotOwner, to: SlotOwner, slots: number): Promise<void> {
  // prettier-ignore
  const args = ['--cluster', 'reshard', `${c.host}:${from.node.proxyPort}`, '--cluster-from', from.id, '--cluster-to', to.id,
    '--cluster-slots', String(slots), '--cluster-yes', '--cluster-pipeline', '10'];
  try {
    await run('/usr/bin/redis-cli', args, { timeout: 120_000 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new LabError(
      `redis-cli --cluster reshard failed: ${err.message}\n${(err.stdout ?? '').slice(-2000)}${err.stderr ?? ''}\nFix: \`redis-cli --cluster fix ${c.host}:${from.node.proxyPort}\`, or \`chaos down\` then \`chaos up --redis cluster\``,
      { cause: e },
    );
  }
  await slotMapsAgree(c);
}
