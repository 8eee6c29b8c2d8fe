import type { Cluster } from 'ioredis';
import { z } from 'zod';
import { LabError } from '../../lib/errors';
import { labRedisCluster } from '../../lib/redis';
import { waitFor } from '../../lib/wait';
import {
  clusterNodes,
  directNodeClient,
  withNode,
  type ClusterNode,
} from '../../runtime/components/redis-cluster';
import { finished, prng, type Step, type WorkloadContext, type WorkloadKind } from './api';

/**
 * What the lock holder does after its write: `none` trusts the master's OK (replication is asynchronous); `wait`
 * sends `WAIT 1 <waitTimeoutMs>` and treats a reply of 0 replicas as "not held" — a visible refusal.
 */
export const REPLICA_ACKS = ['none', 'wait'] as const;
export type ReplicaAck = (typeof REPLICA_ACKS)[number];

const Params = z
  .object({
    /** failovers: each cuts one master from its replica, writes a lock there, kills the master */
    rounds: z.number().int().min(1).max(20),
    products: z.number().int().min(1).max(10_000),
    replicaAck: z.enum(REPLICA_ACKS, {
      errorMap: () => ({ message: `expected one of ${REPLICA_ACKS.join(', ')}` }),
    }),
    /** WAIT's timeout: how long the writer gives the replica to confirm */
    waitTimeoutMs: z.number().int().min(10).max(10_000),
    /** the lock's expiry (SET … PX): far longer than a round, so only a failover can make it vanish */
    lockTtlMs: z.number().int().min(1_000).max(600_000),
    /** bound on the replica's promotion after the kill */
    failoverTimeoutMs: z.number().int().min(5_000).max(120_000).default(60_000),
  })
  .strict();
type Params = z.infer<typeof Params>;

const MOMENTS = ['partition', 'kill-master'] as const;

const FIGURES = [
  'rounds',
  'failovers',
  'maxFailoverMs',
  'writesAcknowledged',
  'writesLost',
  'writesTrusted',
  'trustedWritesLost',
  'refusedByWait',
  'locksGrantedTwice',
  'dbLoads',
  'productsLoadedTwice',
] as const;

/** One failover round, as the report lists it. */
interface Round {
  round: number;
  productId: number;
  key: string;
  master: string;
  promoted: string;
  /** the master's reply to SET NX, and to WAIT (null without WAIT) */
  setReply: string | null;
  replicasAcked: number | null;
  /** the writer went on as lock holder (and loaded from the DB) */
  trusted: boolean;
  /** the promoted node still has the writer's lock */
  survived: boolean;
  /** the second writer, after the failover, was granted the same lock */
  grantedAgain: boolean;
  dbLoads: number;
  failoverMs: number;
}

/**
 * E-013: a singleflight lock acknowledged by a master is lost when the master dies before its replica has it.
 * Each round picks a seeded product; its lock key's master is cut from its replica (the file's `partition` step,
 * aimed at that master's proxy: the replication stream crosses it and is dropped) while the writer — on the
 * master's side of the partition, at the node's own port — takes the lock (SET NX PX). The writer that trusts the
 * OK loads the product from the database as the lock's holder. Then the master is killed (`kill-master`), its
 * replica is promoted without the lock, and a second writer asks for the same lock through the cluster client:
 * granted again, it loads the product a second time. With `replicaAck: wait` the first writer asks `WAIT 1` and
 * is told 0 replicas have its lock: it does not act as holder, so the product is loaded once — the loss is still
 * there (WAIT does not undo the write, nor make Redis consistent), but it is seen, not silent.
 */
export const clusterFailover: WorkloadKind<typeof Params> = {
  kind: 'redis-cluster-failover',
  summary:
    'a lock written to a master cut from its replica, then the master killed: is the acknowledged lock gone after the failover?',
  params: Params,
  figures: FIGURES,
  facts: [],
  moments: MOMENTS,
  needsRedisCluster: true,
  async run(ctx) {
    const p = ctx.params;
    const stepAt = (moment: (typeof MOMENTS)[number]): Step => {
      const step = ctx.stepsAt(moment)[0];
      if (!step)
        throw new LabError(
          `${ctx.experiment.id}: no step at { moment: ${moment} } in method: ${moment === 'partition' ? 'add a timeout toxic (timeoutMs: 0, downstream) on a redis-cluster-N proxy' : 'add a redis-cluster-node kill step'}`,
        );
      return step;
    };
    const partitionStep = stepAt('partition');
    const killStep = stepAt('kill-master');
    const rand = prng(ctx.seed);
    const prefix = `lab:exp:${ctx.runId}:`;
    const nodes = clusterNodes(ctx.c);
    const rounds: Round[] = [];

    for (let round = 1; round <= p.rounds; round++) {
      ctx.throwIfAborted();
      const productId = 1 + Math.floor(rand() * p.products);
      const key = `${prefix}lock:{product:${productId}}`;
      const { master, replica } = await ownersOf(ctx, nodes, key);
      ctx.note(
        `round ${round}: lock of product ${productId} on ${master.name} (replica ${replica.name})`,
      );
      const cut = await ctx.fire(partitionStep, { proxy: master.proxy });
      const writer = directNodeClient(ctx.c, master.nodePort);
      let setReply: string | null = null;
      let replicasAcked: number | null = null;
      try {
        await writer.connect();
        setReply = await writer.set(key, `writer-1-round-${round}`, 'PX', p.lockTtlMs, 'NX');
        if (p.replicaAck === 'wait')
          replicasAcked = Number(await writer.call('WAIT', '1', String(p.waitTimeoutMs)));
      } finally {
        writer.disconnect();
      }
      const trusted = setReply === 'OK' && (replicasAcked === null || replicasAcked >= 1);
      let dbLoads = trusted ? await loadProduct(ctx, productId) : 0;
      ctx.note(
        `round ${round}: ${master.name} answered ${setReply}${replicasAcked === null ? '' : `, WAIT 1 ${p.waitTimeoutMs} → ${replicasAcked} replica(s)`}; the writer ${trusted ? 'holds the lock and loads the product' : 'does not trust the lock: no load'}`,
      );

      const killed = await ctx.fire(killStep, { node: master.index });
      const t0 = Date.now();
      // a counterfactual run recorded the kill without applying it: no failover to wait for
      if (killed.applied)
        await waitFor(
          `${replica.name} to be promoted after ${master.name} was killed`,
          async () =>
            (await withNode(ctx.c, replica.nodePort, (r) => r.info('replication'))).includes(
              'role:master',
            ),
          { timeoutMs: p.failoverTimeoutMs, intervalMs: 100 },
        );
      const failoverMs = Date.now() - t0;
      await cut.undo();
      // the lock's holder now: the promoted replica, or the master that was never killed (counterfactual)
      const holder = killed.applied ? replica : master;
      const survived =
        (await withNode(ctx.c, holder.nodePort, (r) => r.get(key))) === `writer-1-round-${round}`;
      const grantedAgain = await secondWriter(ctx, key, round);
      if (grantedAgain) dbLoads += await loadProduct(ctx, productId);
      ctx.note(
        `round ${round}: ${replica.name} promoted in ${failoverMs} ms, ${survived ? 'with' : 'without'} the lock; a second writer was ${grantedAgain ? 'granted it again' : 'refused'}`,
      );
      await killed.undo();
      rounds.push({
        round,
        productId,
        key,
        master: master.name,
        promoted: replica.name,
        setReply,
        replicasAcked,
        trusted,
        survived,
        grantedAgain,
        dbLoads,
        failoverMs,
      });
    }
    await cleanUp(ctx, rounds);
    return finished(outcome(rounds));
  },
};

/** The master that owns the key's slot and its replica, from the cluster's own slot map (read at a node's port). */
async function ownersOf(ctx: WorkloadContext<Params>, nodes: ClusterNode[], key: string) {
  const byProxyPort = (port: number) => nodes.find((n) => n.proxyPort === port);
  for (const n of nodes) {
    try {
      return await withNode(ctx.c, n.nodePort, async (r) => {
        const slot = Number(await r.call('CLUSTER', 'KEYSLOT', key));
        const ranges = (await r.call('CLUSTER', 'SLOTS')) as [
          number,
          number,
          ...[string, number][],
        ][];
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        const master = range && byProxyPort(range[2][1]);
        const replica = range?.[3] && byProxyPort(range[3][1]);
        if (!master || !replica)
          throw new LabError(
            `slot ${slot} of ${key} has no master with a replica: is the cluster whole?`,
          );
        return { master, replica };
      });
    } catch (e) {
      if (e instanceof LabError) throw e;
    }
  }
  throw new LabError('no Redis Cluster node answers: `chaos up --redis cluster`');
}

/**
 * The database load the lock protects, really sent: one per lock holder. Two for one product in one round is what
 * a singleflight lock exists to prevent.
 */
async function loadProduct(ctx: WorkloadContext<Params>, productId: number): Promise<number> {
  await ctx.pool.query('SELECT id, name, price, stock, version FROM product WHERE id = ?', [
    productId,
  ]);
  return 1;
}

/**
 * Another writer asks for the same lock through the cluster client once the slot has a master again. A refusal
 * (NX: the key exists) means the first writer's lock survived the failover.
 */
async function secondWriter(ctx: WorkloadContext<Params>, key: string, round: number) {
  const cluster: Cluster = labRedisCluster(ctx.c);
  try {
    let reply: string | null = null;
    await waitFor(
      `the cluster to accept a write to ${key} after the failover`,
      async () => {
        try {
          reply = await cluster.set(key, `writer-2-round-${round}`, 'PX', 60_000, 'NX');
          return true;
        } catch {
          return false; // CLUSTERDOWN or a stale slot map while the promotion propagates
        }
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    return reply === 'OK';
  } finally {
    cluster.disconnect();
  }
}

async function cleanUp(ctx: WorkloadContext<Params>, rounds: Round[]) {
  const cluster = labRedisCluster(ctx.c);
  try {
    for (const r of rounds) await cluster.del(r.key);
  } finally {
    cluster.disconnect();
  }
}

export function outcome(rounds: Round[]) {
  const loadsByProduct = rounds.filter((r) => r.dbLoads > 1).map((r) => r.productId);
  return {
    figures: {
      rounds: rounds.length,
      failovers: rounds.filter((r) => r.promoted).length,
      maxFailoverMs: Math.max(0, ...rounds.map((r) => r.failoverMs)),
      writesAcknowledged: rounds.filter((r) => r.setReply === 'OK').length,
      writesLost: rounds.filter((r) => r.setReply === 'OK' && !r.survived).length,
      writesTrusted: rounds.filter((r) => r.trusted).length,
      trustedWritesLost: rounds.filter((r) => r.trusted && !r.survived).length,
      refusedByWait: rounds.filter((r) => r.setReply === 'OK' && !r.trusted).length,
      locksGrantedTwice: rounds.filter((r) => r.trusted && r.grantedAgain).length,
      dbLoads: rounds.reduce((sum, r) => sum + r.dbLoads, 0),
      productsLoadedTwice: new Set(loadsByProduct).size,
    },
    sections: [{ title: 'Failover rounds, by key', markdown: roundTable(rounds) }],
    data: { rounds },
  };
}

export function roundTable(rounds: Round[]): string {
  if (!rounds.length) return 'No round ran.';
  const rows = rounds.map(
    (r) =>
      `| ${r.round} | ${r.productId} | \`${r.key}\` | ${r.master} → ${r.promoted} (${r.failoverMs} ms) | ${r.setReply ?? '—'} | ${r.replicasAcked ?? '—'} | ${r.trusted ? 'yes' : 'no'} | ${r.survived ? 'kept' : '**lost**'} | ${r.grantedAgain ? '**granted again**' : 'refused'} | ${r.dbLoads} |`,
  );
  return [
    '| round | product | lock key | failover | SET NX | WAIT → replicas | writer trusted it | after failover | second writer | DB loads |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
