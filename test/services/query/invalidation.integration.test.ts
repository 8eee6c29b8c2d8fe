import { expect } from 'chai';
import type { Pool } from 'mysql2/promise';
import type { LabConfig } from '../../../src/lib/config';
import { labPool } from '../../../src/lib/db';
import { labRedis } from '../../../src/lib/redis';
import { sleep, waitFor } from '../../../src/lib/wait';
import { DelStore, VersionedStore, type Entry } from '../../../src/services/query/cache';
import {
  deleteProducts,
  ensureSchema,
  labStack,
  insertProduct,
  newTopic,
  produce,
  productEvent,
  QueryService,
  testPrefix,
  uniqueId,
  updateProduct,
} from './support';

/**
 * Cache invalidation from change events, on the real stack: the row is changed in MariaDB directly and the event
 * produced to a per-test topic by the test itself, exactly as command-service/outbox-relay would.
 */
describe('query-service invalidation (real stack)', function () {
  this.timeout(120_000);
  let lab: LabConfig;
  let pool: Pool;
  const ids: number[] = [];

  before(async function () {
    this.timeout(360_000); // may wait for another engineer's `chaos up` to finish
    lab = await labStack();
    await ensureSchema(lab);
    pool = labPool(lab, { connectionLimit: 4 });
  });
  after(async () => {
    await deleteProducts(pool, ids).catch(() => {});
    await pool?.end();
  });

  const v1 = { name: 'widget', price: 10.5, stock: 7 };
  const v2 = { name: 'widget', price: 12.25, stock: 6 };

  async function serviceFor(mode: 'del' | 'versioned') {
    const topic = await newTopic(lab, mode);
    const prefix = testPrefix(mode);
    const svc = await QueryService.start(
      mode,
      {
        CACHE_INVALIDATION: mode,
        STAMPEDE: 'none',
        LAB_TOPIC: topic,
        LAB_QUERY_GROUP: `lab-query-test-${mode}-${topic}`,
        QUERY_CACHE_PREFIX: prefix,
        CACHE_TTL_MS: '60000',
      },
      { waitConsumer: true },
    );
    return { svc, topic, prefix };
  }

  const entryOf = (id: number, version: number, p: typeof v1): Entry => ({
    product: {
      id: String(id),
      name: p.name,
      price: p.price.toFixed(2),
      stock: p.stock,
      version,
      updatedAt: new Date().toISOString(),
    },
    version,
    filledAt: Date.now(),
    softExpiresAt: Date.now() + 60_000,
    deltaMs: 1,
  });

  describe('CACHE_INVALIDATION=del', () => {
    let svc: QueryService, topic: string, prefix: string;
    before(async () => ({ svc, topic, prefix } = await serviceFor('del')));
    after(async () => {
      await svc?.flushAndStop();
    });

    it('answers a bad product id with 400 and an unknown one with 404, as JSON, and keeps serving', async () => {
      const answer = async (p: string) => {
        const r = await fetch(`${svc.base}${p}`);
        return { status: r.status, body: (await r.json()) as { error?: string; status?: number } };
      };
      expect(await answer('/products/abc')).to.deep.equal({
        status: 400,
        body: { error: 'product id must be a positive integer, got "abc"', status: 400 },
      });
      expect((await answer('/products/%E0%A4%A')).status, 'a malformed escape').to.equal(400);
      expect(await answer(`/products/${uniqueId()}?x=1`)).to.deep.include({ status: 404 });
      expect((await fetch(`${svc.base}/products`)).status, 'no id: not this route').to.equal(404);
      expect((await fetch(`${svc.base}/health`)).status).to.equal(200);
    });

    it('serves the new value after the update event', async () => {
      const id = uniqueId();
      ids.push(id);
      await insertProduct(pool, id, { ...v1, version: 1 });
      expect((await svc.get(id)).body).to.deep.include({ source: 'db', version: 1 });
      expect((await svc.get(id)).body).to.deep.include({ source: 'cache', version: 1 });

      await updateProduct(pool, id, { ...v2, version: 2 });
      // Without the event the cache keeps answering v1: invalidation is what moves it, not the TTL (60 s).
      expect((await svc.get(id)).body).to.deep.include({ source: 'cache', version: 1 });

      await produce(lab, topic, [productEvent(id, 2, v2)]);
      const after = await waitFor(
        'v2 served',
        async () => {
          const r = await svc.get(id);
          return r.body.version === 2 && r;
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
      expect(after.body.source).to.equal('db');
      expect(after.body.product).to.include({ price: '12.25', stock: 6 });
      expect((await svc.get(id)).body).to.deep.include({ source: 'cache', version: 2 });
      expect(await svc.metric('lab_query_invalidations_total', { mode: 'del' })).to.be.at.least(1);
    });

    it('documents the race del mode has: a slow reader that filled after the DEL re-caches the old value', async () => {
      const id = uniqueId();
      ids.push(id);
      await insertProduct(pool, id, { ...v1, version: 1 });
      await svc.get(id);
      await updateProduct(pool, id, { ...v2, version: 2 });
      const before = (await svc.stats()).invalidations.del ?? 0;
      await produce(lab, topic, [productEvent(id, 2, v2)]);
      await waitFor('the DEL', async () => ((await svc.stats()).invalidations.del ?? 0) > before, {
        timeoutMs: 15_000,
        intervalMs: 50,
      });
      // A reader that SELECTed v1 before the update and writes only now (what a GC pause or slow network does):
      const redis = labRedis(lab);
      try {
        expect(
          await new DelStore(redis, prefix).fill(String(id), entryOf(id, 1, v1), 60_000),
        ).to.equal(true);
      } finally {
        redis.disconnect();
      }
      // …and v1 is served again although v2 is committed and its event consumed: stale until the TTL.
      expect((await svc.get(id)).body).to.deep.include({ source: 'cache', version: 1 });
    });
  });

  describe('CACHE_INVALIDATION=versioned', () => {
    let svc: QueryService, topic: string, prefix: string;
    before(async () => ({ svc, topic, prefix } = await serviceFor('versioned')));
    after(async () => {
      await svc?.flushAndStop();
    });

    it('never serves an older version once the event is consumed (readers hammer the key throughout)', async () => {
      const id = uniqueId();
      ids.push(id);
      await insertProduct(pool, id, { ...v1, version: 1 });
      expect((await svc.get(id)).body).to.deep.include({ source: 'db', version: 1 });

      const seen: { startedAt: number; version: number; source: string }[] = [];
      let stop = false;
      const readers = Array.from({ length: 4 }, async () => {
        while (!stop) {
          const startedAt = Date.now();
          const r = await svc.get(id);
          seen.push({ startedAt, version: r.body.version ?? -1, source: r.body.source ?? '?' });
        }
      });
      await sleep(200);
      await updateProduct(pool, id, { ...v2, version: 2 });
      await produce(lab, topic, [productEvent(id, 2, v2)]);
      await waitFor(
        'pointer moved',
        async () => ((await svc.stats()).invalidations.versioned ?? 0) >= 1,
        { timeoutMs: 15_000, intervalMs: 20 },
      );
      const consumedBy = Date.now();
      // Keep reading until 40 reads started after the event (time-bounded: a loaded box reads slowly).
      await waitFor(
        '40 reads after the event',
        async () => seen.filter((s) => s.startedAt > consumedBy).length >= 40,
        { timeoutMs: 20_000, intervalMs: 20 },
      ).finally(() => (stop = true));
      await Promise.all(readers);

      const afterEvent = seen.filter((s) => s.startedAt > consumedBy);
      expect(afterEvent.length, 'reads after the event').to.be.at.least(40);
      expect(
        afterEvent.filter((s) => s.version < 2),
        'older versions served after the event',
      ).to.deep.equal([]);
      expect(
        seen.filter((s) => s.startedAt < consumedBy - 1000).every((s) => s.version === 1),
      ).to.equal(true);
    });

    it('refuses a stale fill and ignores an older or replayed event', async () => {
      const id = uniqueId();
      ids.push(id);
      await insertProduct(pool, id, { ...v1, version: 1 });
      await svc.get(id);
      await updateProduct(pool, id, { ...v2, version: 2 });
      const base = await svc.stats();
      await produce(lab, topic, [productEvent(id, 2, v2)]);
      await waitFor('event consumed', async () => (await svc.stats()).events > base.events, {
        timeoutMs: 15_000,
        intervalMs: 50,
      });

      // The same slow reader as in the del test: its v1 fill now loses against the pointer (v2).
      const redis = labRedis(lab);
      try {
        expect(
          await new VersionedStore(redis, prefix, 120_000).fill(
            String(id),
            entryOf(id, 1, v1),
            60_000,
          ),
        ).to.equal(false);
      } finally {
        redis.disconnect();
      }
      expect((await svc.get(id)).body).to.deep.include({ version: 2 });

      // An old event delivered late (or replayed) does not move the pointer back.
      const mid = await svc.stats();
      await produce(lab, topic, [productEvent(id, 1, v1, 'ProductCreated')]);
      await waitFor('old event consumed', async () => (await svc.stats()).events > mid.events, {
        timeoutMs: 15_000,
        intervalMs: 50,
      });
      expect((await svc.stats()).invalidations.versioned).to.equal(mid.invalidations.versioned);
      expect((await svc.get(id)).body).to.deep.include({ source: 'cache', version: 2 });
    });
  });
});
