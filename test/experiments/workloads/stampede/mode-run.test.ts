import { expect } from 'chai';
import { EXP_CACHE_PREFIX, type WorkloadContext } from '../../../../src/experiments/workloads/api';
import { keys } from '../../../../src/services/query/cache';
import {
  keyExpiries,
  runMode,
  type StormParams,
} from '../../../../src/experiments/workloads/stampede/mode-run';
import type { ProductReads } from '../../../../src/experiments/workloads/stampede/db-reads';
import { fakeQueryService } from './fake-http';
import { fakeRedis } from './fake-redis';

const p: StormParams = {
  readers: 6,
  hotKeys: 2,
  rounds: 2,
  dbLatencyMs: 10,
  arrivalJitterMs: 5,
  expire: true,
};

/** A context with only what one mode's storm uses: the services (one local server for both), the pool, Prometheus. */
function fakeCtx(url: string, own: number) {
  const seen = {
    notes: [] as string[],
    started: [] as string[],
    inserted: [] as unknown[],
    order: [] as string[],
  };
  const ctx = {
    seed: 42,
    runId: 'r1',
    note: (w: string) => seen.notes.push(w),
    throwIfAborted: () => {},
    services: {
      start: async (s: string, env: Record<string, string>) =>
        void seen.started.push(`${s} STAMPEDE=${env.STAMPEDE}`),
      url: () => url,
    },
    pool: { query: async (_sql: string, values: unknown[]) => void seen.inserted.push(values) },
    prom: {
      scalar: async (q: string) =>
        q.startsWith('sum(lab_query_db_queries_by_key_total{run="r1"') ? own : 42.4,
    },
  } as unknown as WorkloadContext<unknown>;
  return { ctx, seen };
}

/** MariaDB's count of product reads: 10 before the rounds, 16 after; one sample. */
function fakeReads(order: string[]) {
  let n = 0;
  return {
    count: async () => (order.push('count'), n++ === 0 ? 10 : 16),
    sample: () => ({ stop: async (): Promise<[number, number][]> => [[0.25, 24]] }),
  } as unknown as ProductReads;
}

describe('one stampede mode run (fake context, fake Redis, fake DB counts, a local query-service)', () => {
  let svc: Awaited<ReturnType<typeof fakeQueryService>> | undefined;
  afterEach(async () => svc?.close());

  it('restarts both instances in the mode, seeds and warms its keys, slows the DB, then storms every round', async () => {
    svc = await fakeQueryService((path) =>
      path === '/cache/stats'
        ? { status: 200, body: { dbQueriesByKey: { '100001': 3, '100002': 2, '200001': 9 } } }
        : { status: 200, body: { source: 'db' } },
    );
    const { ctx, seen } = fakeCtx(svc.url, 10);
    const { redis, calls } = fakeRedis();
    const r = await runMode(ctx, 'none', p, {
      redis,
      reads: fakeReads(seen.order),
      restart: true,
      slowDb: async () => void seen.order.push('slowDb'),
    });
    expect(seen.started).to.deep.equal([
      'query-service STAMPEDE=none',
      'query-service-2 STAMPEDE=none',
    ]);
    expect(seen.inserted).to.deep.equal([
      [
        [
          [100001, 'hot item 100001', 19.99, 100, 1],
          [100002, 'hot item 100002', 19.99, 100, 1],
        ],
      ],
    ]);
    expect(seen.order).to.deep.equal(['slowDb', 'count', 'count']);
    // Warm-up: one read per key, then 6 readers a round on this mode's keys, then each instance's load counters.
    expect(svc.paths.slice(0, 2)).to.deep.equal(['/products/100001', '/products/100002']);
    expect(svc.paths.filter((x) => /^\/products\/10000[12]$/.test(x))).to.have.length(2 + 2 * 6);
    expect(svc.paths.slice(-2)).to.deep.equal(['/cache/stats', '/cache/stats']);
    // Hard expiry (mode none): the value keys deleted at each round's start.
    const k = keys(EXP_CACHE_PREFIX);
    expect(calls).to.deep.equal(Array(2).fill(`del ${k.value('100001')} ${k.value('100002')}`));
    expect(r).to.deep.include({
      mode: 'none',
      keyExpiries: keyExpiries(42, p),
      dbLoads: 6,
      dbLoadsByService: 10 - 2,
      series: [[0.25, 24]],
      peakSelectQps: 42,
    });
    expect(r.results).to.have.length(12);
    expect(r.results.every((x) => x.status === 200 && x.source === 'db')).to.equal(true);
  });

  it('keeps the instances running when no restart is asked for, and expires nothing in the counterfactual', async () => {
    svc = await fakeQueryService((path) =>
      path === '/cache/stats'
        ? { status: 200, body: { dbQueriesByKey: {} } }
        : { status: 200, body: { source: 'cache' } },
    );
    const { ctx, seen } = fakeCtx(svc.url, 0);
    const { redis, calls } = fakeRedis();
    const r = await runMode(
      ctx,
      'soft-ttl',
      { ...p, expire: false },
      {
        redis,
        reads: fakeReads(seen.order),
        restart: false,
        slowDb: async () => {},
      },
    );
    expect(seen.started).to.deep.equal([]);
    expect(calls).to.deep.equal([]);
    expect(r.keyExpiries).to.equal(0);
    expect(r.results.every((x) => x.source === 'cache')).to.equal(true);
  });

  it('stops at a warm-up read that fails, naming the mode, the product and the answer', async () => {
    svc = await fakeQueryService(() => ({ status: 503, body: 'down' }));
    const { ctx, seen } = fakeCtx(svc.url, 0);
    let err: Error | undefined;
    await runMode(ctx, 'singleflight', p, {
      redis: fakeRedis().redis,
      reads: fakeReads(seen.order),
      restart: false,
      slowDb: async () => void seen.order.push('slowDb'),
    }).catch((e: Error) => (err = e));
    expect(err?.message).to.equal(
      'singleflight: warm-up read of product 200001 failed: HTTP 503 down',
    );
    expect(seen.order).to.deep.equal([]);
  });
});
