import type { Cluster } from 'ioredis';
import { z } from 'zod';
import { LabError } from '../../lib/errors';
import { labRedisCluster } from '../../lib/redis';
import { planReshard, slotMapsAgree, slotsServedBy } from '../../runtime/redis-cluster-slots';
import { finished, prng, type WorkloadContext, type WorkloadKind } from './api';

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
  /** `under-load`: the readers run; the workload fires the resharding step then, and undoes it once they stopped */
  moments: ['under-load'],
  needsRedisCluster: true,
  async run(ctx) {
    const p = ctx.params;
    const prefix = `lab:exp:${ctx.runId}:`;
    const step = ctx.stepsAt('under-load')[0];
    if (step?.fault.type !== 'redis-cluster-reshard')
      throw new LabError(
        `${ctx.experiment.id}: no redis-cluster-reshard step at { moment: under-load } in method: add one (its \`slots\` are the slots that move)`,
      );
    // Every node agrees on who owns what before a client reads its slot map (an earlier run moved slots back).
    await slotMapsAgree(ctx.c);
    const plan = await planReshard(ctx.c, step.fault.slots);
    const setup = labRedisCluster(ctx.c);
    const hot: { id: number; slot: number }[] = [];
    try {
      for (let id = 1; id <= p.scanProducts; id++) {
        const slot = Number(await setup.call('CLUSTER', 'KEYSLOT', `{product:${id}}`));
        if (plan.moving.has(slot)) hot.push({ id, slot });
      }
      if (!hot.length)
        throw new LabError(
          `no product among ${p.scanProducts} lives in the ${plan.slots} slots that move: raise scanProducts or the step's slots`,
        );
      for (const { id } of hot)
        await setup.mset(valueKey(prefix, id), `product ${id}`, versionKey(prefix, id), '1');
    } finally {
      setup.disconnect();
    }
    ctx.note(
      `${hot.length} hot products in the ${plan.slots} lowest slots of ${plan.source.node.name}, which move to ${plan.target.node.name}; ${p.readers} readers with the ${p.client} client`,
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
      const moved = await ctx.fire(step);
      const reshardMs = Date.now() - reshardStart;
      // Measured, not taken from the step: the slots the target serves now, of those that were to move.
      const slotsMoved = await slotsServedBy(ctx.c, plan.target.id, plan.moving);
      await new Promise((resolve) => setTimeout(resolve, p.tailMs));
      stop = true;
      await Promise.all(loops);
      // Back as it was (the step's undo, after the readers stopped): the next run finds the slots where `create`
      // put them. The fault waits until every node agrees, so the clean-up's fresh client meets no redirect.
      await moved.undo();
      await cleanUp(
        ctx,
        prefix,
        hot.map((h) => h.id),
      );
      return finished(
        outcome({ reads, wrongAnswers, failures, hot: hot.length, slotsMoved, reshardMs }),
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
