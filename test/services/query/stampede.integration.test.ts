import { expect } from 'chai';
import type { Pool } from 'mysql2/promise';
import type { LabConfig } from '../../../src/lib/config';
import { labPool } from '../../../src/lib/db';
import { sleep, waitFor } from '../../../src/lib/wait';
import {
  burst,
  deleteProducts,
  labStack,
  ensureSchema,
  insertProduct,
  newTopic,
  QueryService,
  testPrefix,
  uniqueId,
  updateProduct,
  type ProductResponse,
} from './support';

/**
 * Cache stampede on one key, on the real stack. The DB is made slow with the service's own failpoint
 * `query.before-db-load` (a sticky delay) rather than a latency toxic on the shared `mysql` proxy: the failpoint
 * slows only the process under test, while a toxic would slow every other engineer's tests on this machine.
 * DB load counts come from each instance's /metrics (lab_query_db_queries_by_key_total{key=<id>}).
 */
const DB_DELAY_MS = 1000;
const N = 200;
const dbQueries = async (svcs: QueryService[], id: number) => {
  let sum = 0;
  for (const s of svcs)
    sum += await s.metric('lab_query_db_queries_by_key_total', { key: String(id) });
  return sum;
};
const sources = (rs: ProductResponse[]) =>
  rs.reduce<Record<string, number>>(
    (m, r) => (
      (m[String(r.body.source ?? r.status)] = (m[String(r.body.source ?? r.status)] ?? 0) + 1),
      m
    ),
    {},
  );

describe('query-service stampede protection (real stack)', function () {
  this.timeout(120_000);
  let lab: LabConfig;
  let pool: Pool;
  const ids: number[] = [];
  const running: QueryService[] = [];

  before(async function () {
    this.timeout(360_000); // may wait for another engineer's `chaos up` to finish
    lab = await labStack();
    await ensureSchema(lab);
    pool = labPool(lab, { connectionLimit: 4 });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.flushAndStop()));
  });
  after(async () => {
    await deleteProducts(pool, ids).catch(() => {});
    await pool?.end();
  });

  /** `count` instances of one mode sharing a prefix (i.e. one cache), each its own consumer group. */
  async function start(
    tag: string,
    env: Record<string, string>,
    count = 1,
  ): Promise<QueryService[]> {
    const topic = await newTopic(lab, tag);
    const prefix = testPrefix(tag);
    const svcs = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        QueryService.start(`${tag}-${i + 1}`, {
          SERVICE_INSTANCE: String(i + 1),
          LAB_TOPIC: topic,
          LAB_QUERY_GROUP: `lab-query-test-${topic}-${i + 1}`,
          QUERY_CACHE_PREFIX: prefix,
          CACHE_INVALIDATION: 'del',
          LAB_FAILPOINTS: `query.before-db-load=delay:${DB_DELAY_MS}@1+`,
          ...env,
        }),
      ),
    );
    running.push(...svcs);
    return svcs;
  }

  async function newProduct() {
    const id = uniqueId();
    ids.push(id);
    await insertProduct(pool, id, { name: 'hot item', price: 99.99, stock: 1000, version: 1 });
    return id;
  }

  it(`STAMPEDE=none: ${N} concurrent misses hit the DB about ${N} times (assert ≥ 150)`, async () => {
    const [svc] = await start('none', { STAMPEDE: 'none' });
    const id = await newProduct();
    await svc.warm(N);
    const rs = await burst(svc, id, N);
    const n = await dbQueries([svc], id);
    console.log(
      `      none: ${n} DB queries for ${N} concurrent requests; sources ${JSON.stringify(sources(rs))}`,
    );
    expect(rs.every((r) => r.status === 200)).to.equal(true);
    // Tolerance: requests that arrive after the first load finished (≥ DB_DELAY_MS in) find the value cached.
    // On an idle box all 200 arrive within tens of ms (n ≈ 200); on the 2-core lab box with three brokers
    // running (load average up to 20 while other suites ran), arrival spread to ~400 ms and n dropped to 175
    // with a 300 ms delay, hence DB_DELAY_MS = 1000.
    expect(n).to.be.at.least(150);
    // The stampede's signature as query-service itself sees it: loads of a key started while one was in flight.
    expect((await svc.stats()).concurrentLoads).to.be.at.least(100);
  });

  it(`STAMPEDE=singleflight: ${N} concurrent misses hit the DB once (assert ≤ 2)`, async () => {
    const [svc] = await start('sf1', { STAMPEDE: 'singleflight' });
    const id = await newProduct();
    await svc.warm(N);
    const rs = await burst(svc, id, N);
    const n = await dbQueries([svc], id);
    const st = await svc.stats();
    console.log(
      `      singleflight x1: ${n} DB queries; coalesced ${st.singleflightCoalesced}; sources ${JSON.stringify(sources(rs))}`,
    );
    expect(rs.every((r) => r.status === 200 && r.body.version === 1)).to.equal(true);
    // Expected exactly 1. ≤ 2 allows the documented leaks: a waiter whose bounded wait (STAMPEDE_LOCK_WAIT_MS,
    // 3 s; the load takes ~1 s) runs out, or a missed renewal of the Redis lock (3 s TTL, renewed every 1 s by
    // the holder) letting it expire mid-load. Either adds one load; anything above 2 is a coalescing bug.
    expect(n).to.be.within(1, 2);
    // Most callers joined the in-process flight; the rest arrived after the fill and hit the cache (on a loaded
    // box the burst spreads out) — either way they did not reach the DB, which is what `n` checks.
    expect(st.singleflightCoalesced).to.be.at.least(N / 2);
    expect(st.concurrentLoads, 'loads of the key in flight at once').to.equal(0);
  });

  it(`STAMPEDE=singleflight, two instances: ${N} concurrent misses split across both still hit the DB once (assert ≤ 2)`, async () => {
    const svcs = await start('sf2', { STAMPEDE: 'singleflight' }, 2);
    const id = await newProduct();
    await Promise.all(svcs.map((s) => s.warm(N / 2)));
    const rs = (await Promise.all(svcs.map((s) => burst(s, id, N / 2)))).flat();
    const per = await Promise.all(svcs.map((s) => dbQueries([s], id)));
    const waits = await Promise.all(svcs.map((s) => s.metric('lab_query_lock_waits_total')));
    console.log(
      `      singleflight x2: DB queries per instance ${JSON.stringify(per)}; lock waits ${JSON.stringify(waits)}; sources ${JSON.stringify(sources(rs))}`,
    );
    expect(rs.every((r) => r.status === 200 && r.body.version === 1)).to.equal(true);
    // In-process coalescing alone would give 2 (one per instance); the Redis lock makes the loser wait for the
    // winner's fill. ≤ 2 for the same reasons as above.
    expect(per[0] + per[1]).to.be.within(1, 2);
    expect(
      waits[0] + waits[1],
      'the instance that lost the lock waited instead of loading',
    ).to.be.at.least(1);
  });

  it('STAMPEDE=soft-ttl: after the soft expiry every caller gets stale at once and exactly one refresh runs (two instances)', async () => {
    const SLOW_DB = 3000;
    const SOFT = 3000;
    const svcs = await start(
      'soft',
      {
        STAMPEDE: 'soft-ttl',
        CACHE_TTL_MS: '60000',
        SOFT_TTL_MS: String(SOFT),
        CACHE_TTL_JITTER: '0',
        XFETCH_BETA: '0',
        LAB_FAILPOINTS: `query.before-db-load=delay:${SLOW_DB}@1+`,
      },
      2,
    );
    const id = await newProduct();
    const first = await svcs[0].get(id);
    expect(first.body).to.deep.include({ source: 'db', version: 1 });
    expect(first.ms).to.be.at.least(SLOW_DB - 50);
    // The row changes (no event: only the refresh can bring it in).
    await updateProduct(pool, id, { name: 'hot item', price: 89.99, stock: 999, version: 2 });
    await sleep(SOFT + 200);
    await Promise.all(svcs.map((s) => s.warm(50)));

    const rs = (await Promise.all(svcs.map((s) => burst(s, id, 50)))).flat();
    const maxMs = Math.max(...rs.map((r) => r.ms));
    console.log(
      `      soft-ttl: ${rs.length} requests after soft expiry: sources ${JSON.stringify(sources(rs))}, slowest ${maxMs.toFixed(0)} ms (DB load ${SLOW_DB} ms)`,
    );
    expect(
      rs.every((r) => r.status === 200 && r.body.source === 'stale' && r.body.version === 1),
    ).to.equal(true);
    // "Immediately": no stale answer may wait for the DB. Client-side, each came back before a single DB load
    // (3 s) could have finished — a loose bound on purpose: client latency includes queuing for CPU (three
    // brokers on a 2-core box; 100 requests at once measured 150 ms-1.4 s end to end while other suites ran).
    // Server-side, the service's own histogram must put every stale answer under 1 s (a third of a DB load;
    // on a quiet box all are under 0.1 s).
    expect(maxMs).to.be.below(SLOW_DB);
    let fastServerSide = 0;
    for (const s of svcs)
      fastServerSide += await s.metric('lab_query_request_duration_seconds_bucket', {
        source: 'stale',
        le: '1',
      });
    expect(fastServerSide, 'stale answers served in < 1 s server-side').to.equal(rs.length);

    const refreshes = () =>
      Promise.all(svcs.map((s) => s.metric('lab_query_refreshes_total'))).then((a) => a[0] + a[1]);
    // Keep reading (alternating instances) until the refreshed value shows up: every read in between is one more
    // chance for a second refresh to start, which the in-process guard and the Redis lock must prevent.
    let polls = 0;
    const fresh = await waitFor(
      'the refreshed value',
      async () => {
        const r = await svcs[polls++ % 2].get(id);
        expect(r.body.source).to.be.oneOf(['stale', 'cache']);
        return r.body.version === 2 && r;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(fresh.body.source).to.equal('cache');
    await sleep(500);
    expect(await refreshes(), 'refreshes across both instances').to.equal(1);
    expect(await dbQueries(svcs, id), 'DB loads: the first fill + one refresh').to.equal(2);
    for (const s of svcs)
      expect((await s.get(id)).body).to.deep.include({ source: 'cache', version: 2 });
  });
});
