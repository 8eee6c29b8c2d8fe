import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { labRedis, labRedisCluster } from '../../lib/redis';
import { finished, prng, type WorkloadContext, type WorkloadKind } from './api';

/**
 * How a product's keys are named. `separate`: value, version and lock each hashed whole, so on a cluster they land
 * in three slots (the layout that is correct on one Redis). `hash-tag`: each carries {product:<id>}, and only the
 * tag is hashed, so all three share one slot.
 */
export const KEY_LAYOUTS = ['separate', 'hash-tag'] as const;
export type KeyLayout = (typeof KEY_LAYOUTS)[number];

const Params = z
  .object({
    products: z.number().int().min(1).max(10_000),
    operations: z.number().int().min(1).max(100_000),
    keyLayout: z.enum(KEY_LAYOUTS, {
      errorMap: () => ({ message: `expected one of ${KEY_LAYOUTS.join(', ')}` }),
    }),
    /**
     * Where the commands go: the Redis Cluster, or the lab's single Redis — one node serves every slot, so no
     * command can span two (E-012's counterfactual: the sharding that causes CROSSSLOT removed).
     */
    redis: z.enum(['cluster', 'single']).default('cluster'),
  })
  .strict();
type Params = z.infer<typeof Params>;

/** The multi-key commands a cache uses over one product's keys; each is counted on its own. */
export const MULTI_KEY_COMMANDS = ['mset', 'mget', 'eval'] as const;
type Command = (typeof MULTI_KEY_COMMANDS)[number];

export function productKeys(prefix: string, layout: KeyLayout, id: number) {
  const p = layout === 'hash-tag' ? `{product:${id}}` : `product:${id}`;
  return { value: `${prefix}${p}`, version: `${prefix}${p}:ver`, lock: `${prefix}lock:${p}` };
}

// KEYS: value, lock. Fills the value only while the caller holds the fill lock (as query-service's fills do).
const FILL_UNDER_LOCK = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

const FIGURES = [
  'operations',
  'succeeded',
  'failed',
  'crossSlotErrors',
  'otherErrors',
  ...MULTI_KEY_COMMANDS.map((c) => `${c}CrossSlot`),
  'products',
  'productsSpanningSlots',
  'productsWithFailures',
] as const;

interface Failure {
  command: Command;
  productId: number;
  keys: string[];
  slots: number[];
  error: string;
}

/**
 * E-012's CROSSSLOT part: seeded multi-key operations (MSET of a product's value and version, MGET of both, a Lua
 * fill of its value under its lock) through an ioredis Cluster client, every one over a single product's keys. On a
 * cluster a command over keys of several slots is refused with CROSSSLOT, whatever node it reaches: with the
 * `separate` layout every operation fails; with `hash-tag` none does. Each failure is kept with its keys and slots.
 */
export const clusterMultiKey: WorkloadKind<typeof Params> = {
  kind: 'redis-cluster-multikey',
  summary:
    "seeded multi-key operations (MSET, MGET, a Lua fill under a lock) over one product's keys on the Redis Cluster",
  params: Params,
  figures: FIGURES,
  facts: [],
  needsRedisCluster: true,
  async run(ctx: WorkloadContext<Params>) {
    const { products, operations, keyLayout } = ctx.params;
    const cluster = labRedisCluster(ctx.c);
    // the slots are always the cluster's own answer; the commands go where the parameter says
    const redis = ctx.params.redis === 'single' ? labRedis(ctx.c) : cluster;
    const prefix = `lab:exp:${ctx.runId}:`;
    const rand = prng(ctx.seed);
    const counts = { succeeded: 0, crossSlot: 0, other: 0 };
    const perCommand = Object.fromEntries(MULTI_KEY_COMMANDS.map((c) => [c, 0])) as Record<
      Command,
      number
    >;
    const failures: Failure[] = [];
    try {
      const slotsOf = await slotMap(cluster, prefix, keyLayout, products);
      ctx.note(
        `${operations} multi-key operations over ${products} products, key layout ${keyLayout}, on the ${ctx.params.redis === 'single' ? 'single Redis' : 'Redis Cluster'}`,
      );
      for (let i = 0; i < operations; i++) {
        const id = 1 + Math.floor(rand() * products);
        const command = MULTI_KEY_COMMANDS[Math.floor(rand() * MULTI_KEY_COMMANDS.length)];
        const k = productKeys(prefix, keyLayout, id);
        const keys = command === 'eval' ? [k.value, k.lock] : [k.value, k.version];
        try {
          await runCommand(redis, command, k, i);
          counts.succeeded++;
        } catch (e) {
          const error = (e as Error).message;
          if (error.startsWith('CROSSSLOT')) {
            counts.crossSlot++;
            perCommand[command]++;
          } else counts.other++;
          failures.push({
            command,
            productId: id,
            keys,
            slots: keys.map((key) => slotsOf.get(key) ?? -1),
            error,
          });
        }
      }
      const spanning = new Set<number>();
      for (let id = 1; id <= products; id++) {
        const k = productKeys(prefix, keyLayout, id);
        if (new Set([k.value, k.version, k.lock].map((key) => slotsOf.get(key))).size > 1)
          spanning.add(id);
      }
      await deleteKeys(redis, prefix, keyLayout, products);
      const byProduct = new Set(failures.map((f) => f.productId));
      return finished({
        figures: {
          operations,
          succeeded: counts.succeeded,
          failed: failures.length,
          crossSlotErrors: counts.crossSlot,
          otherErrors: counts.other,
          ...Object.fromEntries(MULTI_KEY_COMMANDS.map((c) => [`${c}CrossSlot`, perCommand[c]])),
          products,
          productsSpanningSlots: spanning.size,
          productsWithFailures: byProduct.size,
        },
        sections: [{ title: 'Failed operations, by key', markdown: failureTable(failures) }],
        data: { keyLayout, failures },
      });
    } finally {
      cluster.disconnect();
      if (redis !== cluster) redis.disconnect();
    }
  },
};

async function runCommand(
  redis: Cluster | Redis,
  command: Command,
  k: ReturnType<typeof productKeys>,
  i: number,
) {
  if (command === 'mset') await redis.mset(k.value, `v${i}`, k.version, String(i));
  else if (command === 'mget') await redis.mget(k.value, k.version);
  else await redis.eval(FILL_UNDER_LOCK, 2, k.value, k.lock, `token-${i}`, `v${i}`);
}

/** Each key's slot, as the cluster computes it (CLUSTER KEYSLOT), not a copy of its hash function. */
async function slotMap(redis: Cluster, prefix: string, layout: KeyLayout, products: number) {
  const out = new Map<string, number>();
  for (let id = 1; id <= products; id++) {
    const k = productKeys(prefix, layout, id);
    for (const key of [k.value, k.version, k.lock])
      out.set(key, Number(await redis.call('CLUSTER', 'KEYSLOT', key)));
  }
  return out;
}

/** The run's keys, one by one (a DEL over several slots would be refused too). */
async function deleteKeys(
  redis: Cluster | Redis,
  prefix: string,
  layout: KeyLayout,
  products: number,
) {
  for (let id = 1; id <= products; id++) {
    const k = productKeys(prefix, layout, id);
    for (const key of [k.value, k.version, k.lock]) await redis.del(key);
  }
}

/** One row per failed operation, grouped by product and command: keys, their slots, how often. */
export function failureTable(failures: Failure[]): string {
  if (!failures.length) return 'No operation failed.';
  const groups = new Map<string, { f: Failure; n: number }>();
  for (const f of failures) {
    const key = `${f.productId}|${f.command}`;
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { f, n: 1 });
  }
  const rows = [...groups.values()]
    .sort((a, b) => a.f.productId - b.f.productId || a.f.command.localeCompare(b.f.command))
    .map(
      ({ f, n }) =>
        `| ${f.productId} | ${f.command.toUpperCase()} | ${f.keys.map((k, i) => `\`${k}\` (${f.slots[i]})`).join(', ')} | ${n} | ${f.error.split(' ')[0]} |`,
    );
  return [
    '| product | command | keys (slot) | failures | error |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
