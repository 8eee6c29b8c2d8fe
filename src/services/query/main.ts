import type express from 'express';
import { labPool } from '../../lib/db';
import { LabError } from '../../lib/errors';
import { labKafka } from '../../lib/kafka';
import { serviceRegistry } from '../../lib/metrics';
import { labRedis, labRedisCluster } from '../../lib/redis';
import { sleep } from '../../lib/wait';
import { HttpError, serve, serviceApp, serviceContext, type HotRoute } from '../common/app';
import { AnnouncedVersions } from './announced-versions';
import { cacheStore, FillLock, flushPrefix } from './cache';
import { describeModes, loadQueryConfig, type QueryConfig } from './config';
import { Invalidator } from './invalidation';
import { QueryMetrics } from './metrics';
import { ProductRepository } from './repository';
import { strategyFor } from './stampede';

/**
 * query-service: the read side. GET /products/:id is cache-aside over Redis with the invalidation mode
 * (CACHE_INVALIDATION) and stampede protection (STAMPEDE) chosen at start; change events from Kafka invalidate.
 * Started by src/runtime/services.ts as `node dist/src/services/query/main.js`, configured only through env.
 */
async function main() {
  let cfg: QueryConfig;
  try {
    cfg = loadQueryConfig();
  } catch (e) {
    // A config error is an operator's typo: say which variable, no stack trace, distinct exit code.
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  // Instance 1 is "query-service", others "query-service-<n>": the same names Prometheus gives their targets.
  const name = cfg.instance === 1 ? 'query-service' : `query-service-${cfg.instance}`;
  const registry = serviceRegistry(name);
  const metrics = new QueryMetrics(registry, String(cfg.instance));
  const redis = cfg.redisMode === 'cluster' ? labRedisCluster(cfg.lab) : labRedis(cfg.lab);
  const pool = labPool(cfg.lab);
  const kafka = labKafka(cfg.lab, name);
  const store = cacheStore(redis, cfg);
  const lock = new FillLock(redis, cfg.keyPrefix, cfg.lockTtlMs);

  let invalidator: Invalidator | undefined; // eslint-disable-line prefer-const -- assigned after the shutdown hook that reads it is set up
  const ctx = serviceContext(name, registry, async () => {
    const [redisOk, dbOk] = await Promise.all([
      redis.ping().then(
        () => true,
        () => false,
      ),
      repo.ping().catch(() => false),
    ]);
    return {
      status: redisOk && dbOk ? 'ok' : 'degraded',
      modes: describeModes(cfg),
      redis: redisOk,
      db: dbOk,
      consumer: invalidator?.status() ?? { joined: false },
    };
  });
  const repo = new ProductRepository(pool, ctx.failpoints, metrics);
  const announced = new AnnouncedVersions();
  const strategy = strategyFor(cfg.stampede, {
    cfg,
    store,
    lock,
    repo,
    metrics,
    log: ctx.log,
    failpoints: ctx.failpoints,
    announced,
  });
  invalidator = new Invalidator(kafka, cfg, store, metrics, ctx.log, announced);
  const L = { instance: metrics.instance };

  /** GET /products/:id, the cache-aside read: served before express (see HotRoute), it is the lab's hot path. */
  const productRead: HotRoute = {
    method: 'GET',
    path: /^\/products\/([^/]+)\/?$/,
    async handle([id]) {
      // Ids are BIGINT: anything else is a client error, and must not become a cache key.
      if (!/^\d{1,19}$/.test(id))
        throw new HttpError(400, `product id must be a positive integer, got "${id}"`);
      const end = metrics.requestDuration.startTimer(L);
      try {
        const a = await strategy.get(id);
        end({ source: a.source });
        if (!a.product) throw new HttpError(404, `product ${id} not found`);
        return {
          status: 200,
          body: { product: a.product, source: a.source, version: a.product.version },
        };
      } catch (e) {
        if (!(e instanceof HttpError)) end({ source: 'error' });
        throw e;
      }
    },
  };

  const routes = (app: express.Express) => {
    app.post('/cache/flush', async (_req, res) => {
      const deleted = await flushPrefix(redis, cfg.keyPrefix);
      ctx.log.info({ deleted, prefix: cfg.keyPrefix }, 'cache flushed');
      res.json({ deleted, prefix: cfg.keyPrefix });
    });
    // What this instance knows of one product: the newest version its change events announced (E-010 waits on it).
    app.get('/cache/announced/:id', (req, res) => {
      const id = String(req.params.id);
      if (!/^\d{1,19}$/.test(id))
        throw new HttpError(400, `product id must be a positive integer, got "${id}"`);
      res.json({ id, announcedVersion: announced.get(id) ?? null, mode: cfg.invalidation });
    });
    app.get('/cache/stats', async (_req, res) => {
      res.json({
        service: name,
        modes: describeModes(cfg),
        consumer: invalidator?.status(),
        ...(await metrics.snapshot()),
      });
    });
  };

  serve(
    ctx,
    serviceApp(ctx, routes),
    cfg.port,
    async () => {
      await invalidator?.stop().catch(() => {});
      // Let background refreshes finish (bounded by serve()'s 10 s force-exit) so they do not die mid-fill.
      await strategy.idle();
      await Promise.allSettled([redis.quit(), pool.end()]);
    },
    [productRead],
  );

  // Serve reads while the consumer joins (reads do not need it); retry if Kafka is not reachable yet.
  for (let attempt = 1; ; attempt++) {
    try {
      await invalidator.start();
      break;
    } catch (err) {
      ctx.log.error({ err, attempt }, 'invalidation consumer failed to start; retrying');
      await invalidator.stop().catch(() => {});
      await sleep(Math.min(5000, 500 * attempt));
    }
  }
}

main().catch((e) => {
  process.stderr.write(
    `query-service failed: ${e instanceof LabError ? e.message : (e as Error).stack}\n`,
  );
  process.exit(1);
});
