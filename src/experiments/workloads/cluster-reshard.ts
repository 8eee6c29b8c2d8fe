import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Cluster } from 'ioredis';
import { z } from 'zod';
import { LabError } from '../../lib/errors';
import { labRedisCluster } from '../../lib/redis';
import { waitFor } from '../../lib/wait';
import { clusterNodes, withNode, type ClusterNode } from '../../runtime/components/redis-cluster';
import { prng } from '../workload';
import { finished, type WorkloadContext, type WorkloadKind } from './types';

const run = promisify(execFile);

/**
 * How the readers' client meets a slot that moved. `cluster`: ioredis' Cluster as configured by default — it
 * follows MOVED (and refreshes its slot map), follows ASK for a slot being migrated, retries TRYAGAIN. `no-redirects`:
 * the same client with `maxRedirections: 0`, i.e. code that treats the slot map it read at start as the truth —
 * every redirect is a failed read until its periodic refresh (5 s) catches up.
 */
export const RESHARD_CLIENTS = ['no-redirects', 'cluster'] as const;
export type ReshardClient = (typeof RESHARD_CLIENTS)[number];

const Params = z
  .object({
    client: z.enum(RESHARD_CLIENTS, {
      errorMap: () => ({ message: `expected one of ${RESHARD_CLIENTS.join(', ')}` }),
    }),
    /** slots moved from one master to another by `redis-cli --cluster reshard` (its lowest slots first) */
    slots: z.number().int().min(1).max(5_000),
    /** concurrent readers hammering the products in those slots */
    readers: z.number().int().min(1).max(64),
    /** how long the readers go on after the resharding finished */
    tailMs: z.number().int().min(0).max(60_000),
    /** product ids scanned for keys that live in the moved slots */
    scanProducts: z.number().int().min(100).max(100_000),
  })
  .strict();
type Params = z.infer<typeof Params>;

const ERROR_KINDS = ['MOVED', 'ASK', 'TRYAGAIN', 'CLUSTERDOWN'] as const;
type ErrorKind = (typeof ERROR_KINDS)[number] | 'other';

const FIGURES = [
  'reads',
  'succeeded',
  'failedReads',
  'movedErrors',
  'askErrors',
  'redirectErrors',
  'tryAgainErrors',
  'clusterDownErrors',
  'otherErrors',
  'wrongAnswers',
  'hotProducts',
  'productsWithFailedReads',
  'slotsMoved',
  'reshardMs',
] as const;

interface FailedRead {
  productId: number;
  command: 'get' | 'mget';
  slot: number;
  kind: ErrorKind;
  error: string;
  atMs: number;
}

/**
 * E-014, issue #15's resharding part: the hot products' slots move from one master to another with
 * `redis-cli --cluster reshard` while readers GET each product's value and MGET its value and version (one hash
 * tag: a multi-key read, which a slot mid-migration answers with TRYAGAIN when its keys are split). Products are
 * chosen so that all of them live in the slots that move. Every failed read is kept with its product, slot and the
 * redirect that failed it; the slots are moved back afterwards, so every run starts from the cluster as created.
 */
export const clusterReshard: WorkloadKind<typeof Params> = {
  kind: 'redis-cluster-reshard',
  summary:
    'hot products’ slots moved between masters by redis-cli --cluster reshard while readers run: failed reads per redirect',
  params: Params,
  figures: FIGURES,
  facts: [],
  needsRedisCluster: true,
  async run(ctx) {
    const p = ctx.params;
    const prefix = `lab:exp:${ctx.runId}:`;
    const nodes = clusterNodes(ctx.c);
    // Every node agrees on who owns what before a client reads its slot map (an earlier run moved slots back).
    await slotMapsAgree(ctx, nodes);
    const { source, target } = await masterLayout(ctx, nodes);
    const moving = source.firstSlots(p.slots);
    const setup = labRedisCluster(ctx.c);
    const hot: { id: number; slot: number }[] = [];
    try {
      for (let id = 1; id <= p.scanProducts; id++) {
        const slot = Number(await setup.call('CLUSTER', 'KEYSLOT', `{product:${id}}`));
        if (moving.has(slot)) hot.push({ id, slot });
      }
      if (!hot.length)
        throw new LabError(
          `no product among ${p.scanProducts} lives in the ${p.slots} slots that move: raise scanProducts or slots`,
        );
      for (const { id } of hot)
        await setup.mset(valueKey(prefix, id), `product ${id}`, versionKey(prefix, id), '1');
    } finally {
      setup.disconnect();
    }
    ctx.note(
      `${hot.length} hot products in the ${p.slots} lowest slots of ${source.node.name}, moving to ${target.node.name}; ${p.readers} readers with the ${p.client} client`,
    );

    const reader = labRedisCluster(
      ctx.c,
      p.client === 'no-redirects' ? { maxRedirections: 0 } : {},
    );
    const rand = prng(ctx.seed);
    const t0 = Date.now();
    const failures: FailedRead[] = [];
    let reads = 0;
    let wrongAnswers = 0;
    let stop = false;
    const readLoop = async () => {
      while (!stop) {
        const { id, slot } = hot[Math.floor(rand() * hot.length)];
        const command = rand() < 0.5 ? 'get' : 'mget';
        reads++;
        try {
          const value =
            command === 'get'
              ? await reader.get(valueKey(prefix, id))
              : (await reader.mget(valueKey(prefix, id), versionKey(prefix, id)))[0];
          if (value !== `product ${id}`) wrongAnswers++;
        } catch (e) {
          const error = (e as Error).message;
          failures.push({
            productId: id,
            command,
            slot,
            kind: errorKind(error),
            error,
            atMs: Date.now() - t0,
          });
        }
      }
    };
    try {
      await reader.get(valueKey(prefix, hot[0].id)); // the slot map read once, before anything moves
      const loops = Array.from({ length: p.readers }, readLoop);
      const reshardStart = Date.now();
      await reshard(ctx, source.node, source.id, target.id, p.slots);
      const reshardMs = Date.now() - reshardStart;
      ctx.note(
        `${p.slots} slots moved from ${source.node.name} to ${target.node.name} in ${reshardMs} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, p.tailMs));
      stop = true;
      await Promise.all(loops);
      // Back as it was: the next run (and the next seed) finds the slots where `create` put them.
      await reshard(ctx, target.node, target.id, source.id, p.slots);
      await cleanUp(
        ctx,
        prefix,
        hot.map((h) => h.id),
      );
      return finished(
        outcome({ reads, wrongAnswers, failures, hot: hot.length, slotsMoved: p.slots, reshardMs }),
      );
    } finally {
      stop = true;
      reader.disconnect();
    }
  },
};

const valueKey = (prefix: string, id: number) => `${prefix}{product:${id}}`;
const versionKey = (prefix: string, id: number) => `${prefix}{product:${id}}:ver`;

export function errorKind(message: string): ErrorKind {
  for (const kind of ERROR_KINDS) if (new RegExp(`\\b${kind}\\b`).test(message)) return kind;
  return 'other';
}

/**
 * The source is the master of slot 0 and the target the master of slot 16383: `reshard` moves a source's lowest
 * slots, and every slot the target owns is above the ones it receives — so moving its lowest slots back returns
 * exactly those (redis-cli cannot be told which slots). Read at a node's own port.
 */
async function masterLayout(ctx: WorkloadContext<Params>, nodes: ClusterNode[]) {
  const byProxyPort = (port: number) => nodes.find((n) => n.proxyPort === port);
  const ranges = await withNode(
    ctx.c,
    nodes[0].nodePort,
    (r) => r.call('CLUSTER', 'SLOTS') as Promise<[number, number, [string, number, string]][]>,
  );
  const masters = new Map<string, { node: ClusterNode; id: string; ranges: [number, number][] }>();
  for (const [from, to, [, port, id]] of ranges) {
    const node = byProxyPort(port);
    if (!node)
      throw new LabError(`slot ${from}-${to} is served at port ${port}, not a lab node's proxy`);
    const m = masters.get(id) ?? { node, id, ranges: [] };
    m.ranges.push([from, to]);
    masters.set(id, m);
  }
  const layout = [...masters.values()].map((m) => {
    const ranges = m.ranges.sort((a, b) => a[0] - b[0]);
    const firstSlots = (n: number) => {
      const out = new Set<number>();
      for (const [from, to] of ranges) for (let s = from; s <= to && out.size < n; s++) out.add(s);
      return out;
    };
    return {
      ...m,
      firstSlots,
      owns: (slot: number) => ranges.some(([from, to]) => slot >= from && slot <= to),
    };
  });
  const source = layout.find((m) => m.owns(0));
  const target = layout.find((m) => m.owns(16383));
  if (!source || !target || source === target)
    throw new LabError(
      'the cluster does not have slot 0 and slot 16383 on two masters: `chaos down`, then `chaos up --redis cluster`',
    );
  return { source, target };
}

/**
 * Waits until every node serves the same slot map: a slot handed over is announced by gossip, and a client that
 * bootstraps from a node that has not heard yet would be redirected once.
 */
async function slotMapsAgree(ctx: WorkloadContext<Params>, nodes: ClusterNode[]) {
  const view = (port: number) =>
    withNode(ctx.c, port, async (r) =>
      JSON.stringify(
        ((await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][])
          .map(([from, to, [, owner]]) => [from, to, owner])
          .sort((a, b) => a[0] - b[0]),
      ),
    );
  await waitFor(
    'every Redis Cluster node to serve the same slot map',
    async () => new Set(await Promise.all(nodes.map((n) => view(n.nodePort)))).size === 1,
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

/** `redis-cli --cluster reshard`: MIGRATING/IMPORTING, MIGRATE of each key, SETSLOT NODE — slot by slot. */
async function reshard(
  ctx: WorkloadContext<Params>,
  via: ClusterNode,
  fromId: string,
  toId: string,
  slots: number,
) {
  // prettier-ignore
  const args = ['--cluster', 'reshard', `${ctx.c.host}:${via.proxyPort}`, '--cluster-from', fromId, '--cluster-to', toId,
    '--cluster-slots', String(slots), '--cluster-yes', '--cluster-pipeline', '10'];
  try {
    await run('/usr/bin/redis-cli', args, { timeout: 120_000 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new LabError(
      `redis-cli --cluster reshard failed: ${err.message}\n${(err.stdout ?? '').slice(-2000)}${err.stderr ?? ''}\nFix: \`redis-cli -p ${via.proxyPort} --cluster fix ${ctx.c.host}:${via.proxyPort}\`, or \`chaos down\` then \`chaos up --redis cluster\``,
      { cause: e },
    );
  }
}

async function cleanUp(ctx: WorkloadContext<Params>, prefix: string, ids: number[]) {
  const cluster: Cluster = labRedisCluster(ctx.c);
  try {
    for (const id of ids) await cluster.del(valueKey(prefix, id), versionKey(prefix, id));
  } finally {
    cluster.disconnect();
  }
}

export function outcome(o: {
  reads: number;
  wrongAnswers: number;
  failures: FailedRead[];
  hot: number;
  slotsMoved: number;
  reshardMs: number;
}) {
  const count = (kind: ErrorKind) => o.failures.filter((f) => f.kind === kind).length;
  return {
    figures: {
      reads: o.reads,
      succeeded: o.reads - o.failures.length,
      failedReads: o.failures.length,
      movedErrors: count('MOVED'),
      askErrors: count('ASK'),
      redirectErrors: count('MOVED') + count('ASK'),
      tryAgainErrors: count('TRYAGAIN'),
      clusterDownErrors: count('CLUSTERDOWN'),
      otherErrors: count('other'),
      wrongAnswers: o.wrongAnswers,
      hotProducts: o.hot,
      productsWithFailedReads: new Set(o.failures.map((f) => f.productId)).size,
      slotsMoved: o.slotsMoved,
      reshardMs: o.reshardMs,
    },
    sections: [{ title: 'Failed reads, by key', markdown: failureTable(o.failures) }],
    data: { failures: o.failures },
  };
}

/** One row per product, command and redirect: the slot, how many reads failed, first and last (ms into the run). */
export function failureTable(failures: FailedRead[]): string {
  if (!failures.length) return 'No read failed.';
  const groups = new Map<string, { f: FailedRead; n: number; lastMs: number }>();
  for (const f of failures) {
    const key = `${f.productId}|${f.command}|${f.kind}`;
    const g = groups.get(key);
    if (g) {
      g.n++;
      g.lastMs = f.atMs;
    } else groups.set(key, { f, n: 1, lastMs: f.atMs });
  }
  const rows = [...groups.values()]
    .sort((a, b) => a.f.productId - b.f.productId || a.f.command.localeCompare(b.f.command))
    .map(
      ({ f, n, lastMs }) =>
        `| ${f.productId} | ${f.slot} | ${f.command.toUpperCase()} | ${f.kind} | ${n} | ${f.atMs}–${lastMs} |`,
    );
  return [
    '| product | slot | command | error | failed reads | when (ms) |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
