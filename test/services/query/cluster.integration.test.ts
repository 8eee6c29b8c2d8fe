import { expect } from 'chai';
import type { Pool } from 'mysql2/promise';
import type { LabConfig } from '../../../src/lib/config';
import { labPool } from '../../../src/lib/db';
import { labRedisCluster } from '../../../src/lib/redis';
import { waitFor } from '../../../src/lib/wait';
import { keys } from '../../../src/services/query/cache';
import { silentProgress } from '../../../src/runtime/progress';
import { downRedisCluster } from '../../../src/runtime/redis-cluster-up';
import { supervisorFor, up } from '../../../src/runtime/stack';
import {
  deleteProducts,
  ensureSchema,
  insertProduct,
  labStack,
  newTopic,
  produce,
  productEvent,
  QueryService,
  testPrefix,
  uniqueId,
  updateProduct,
} from './support';

/**
 * query-service with REDIS_MODE=cluster on the lab's 6-node Redis Cluster (brought up once for the suite and
 * stopped after it): the same cache-aside, invalidation and stampede modes as on one Redis.
 */
describe('query-service on the Redis Cluster (REDIS_MODE=cluster)', function () {
  this.timeout(180_000);
  let lab: LabConfig;
  let pool: Pool;
  const ids: number[] = [];
  const v1 = { name: 'widget', price: 10.5, stock: 7 };
  const v2 = { name: 'widget', price: 12.25, stock: 6 };

  before(async function () {
    this.timeout(360_000);
    lab = await labStack();
    await up(lab, silentProgress, { redis: 'cluster' });
    await ensureSchema(lab);
    pool = labPool(lab, { connectionLimit: 4 });
  });
  after(async () => {
    await deleteProducts(pool, ids).catch(() => {});
    await pool?.end();
    await downRedisCluster(lab, supervisorFor(lab));
  });

  for (const [invalidation, stampede] of [
    ['del', 'none'],
    ['versioned', 'singleflight'],
    ['versioned', 'soft-ttl'],
  ] as const) {
    it(`caches, invalidates and flushes across the cluster's masters with CACHE_INVALIDATION=${invalidation} STAMPEDE=${stampede}`, async () => {
      const topic = await newTopic(lab, `cluster-${invalidation}-${stampede}`);
      const prefix = testPrefix(`cluster-${invalidation}-${stampede}`);
      const svc = await QueryService.start(
        `cluster-${stampede}`,
        {
          REDIS_MODE: 'cluster',
          CACHE_INVALIDATION: invalidation,
          STAMPEDE: stampede,
          LAB_TOPIC: topic,
          LAB_QUERY_GROUP: `lab-query-test-cluster-${topic}`,
          QUERY_CACHE_PREFIX: prefix,
          CACHE_TTL_MS: '60000',
        },
        { waitConsumer: true },
      );
      const cluster = labRedisCluster(lab);
      try {
        // Enough products that their keys land on every master.
        const mine = Array.from({ length: 24 }, () => uniqueId());
        ids.push(...mine);
        for (const id of mine) await insertProduct(pool, id, { ...v1, version: 1 });
        for (const id of mine)
          expect((await svc.get(id)).body).to.deep.include({ source: 'db', version: 1 });
        for (const id of mine)
          expect((await svc.get(id)).body).to.deep.include({ source: 'cache', version: 1 });
        const k = keys(prefix);
        const probe =
          invalidation === 'del' ? k.value(String(mine[0])) : k.pointer(String(mine[0]));
        expect(await cluster.exists(probe), `${probe} in the cluster`).to.equal(1);

        await updateProduct(pool, mine[0], { ...v2, version: 2 });
        await produce(lab, topic, [productEvent(mine[0], 2, v2)]);
        await waitFor('v2 served', async () => (await svc.get(mine[0])).body.version === 2, {
          timeoutMs: 15_000,
          intervalMs: 50,
        });

        const masters = cluster.nodes('master');
        const perMaster = await Promise.all(
          masters.map(async (m) => (await m.keys(`${prefix}*`)).length),
        );
        expect(
          perMaster.filter((n) => n > 0).length,
          `keys per master: ${perMaster.join(', ')}`,
        ).to.equal(3);
        const flushed = await svc.flush();
        expect(flushed.deleted).to.equal(perMaster.reduce((a, b) => a + b, 0));
        const left = await Promise.all(
          masters.map(async (m) => (await m.keys(`${prefix}*`)).length),
        );
        expect(left).to.deep.equal([0, 0, 0]);
      } finally {
        cluster.disconnect();
        await svc.flushAndStop();
      }
    });
  }
});
