import { labPool } from '../../lib/db';
import { LabError } from '../../lib/errors';
import { labKafka } from '../../lib/kafka';
import { serviceRegistry } from '../../lib/metrics';
import { labRedis, labRedisCluster } from '../../lib/redis';
import { serve, serviceApp, serviceContext } from '../common/app';
import { AnnouncedVersions } from './announced-versions';
import { cacheStore, FillLock } from './cache';
import { loadQueryConfig, type QueryConfig } from './config';
import { Invalidator } from './invalidation';
import { QueryMetrics } from './metrics';
import { ProductRepository } from './repository';
import {
  cacheRoutes,
  productReadRoute,
  queryHealth,
  queryServiceName,
  startInvalidator,
} from './routes';
import { strategyFor } from './stampede';

/** Loads the config; a config error is an operator's typo: say which variable, no stack trace, distinct exit code. */
function loadConfigOrExit(): QueryConfig {
  try {
    return loadQueryConfig();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
}

/**
 * query-service: the read side. GET /products/:id is cache-aside over Redis with the invalidation mode
 * (CACHE_INVALIDATION) and stampede protection (STAMPEDE) chosen at start; change events from Kafka invalidate.
 * Started by src/runtime/services.ts as `node dist/src/services/query/main.js`, configured only through env.
 */
async function main() {
  const cfg = loadConfigOrExit();
  const name = queryServiceName(cfg.instance);
  const registry = serviceRegistry(name);
  const metrics = new QueryMetrics(registry, String(cfg.instance));
  const redis = cfg.redisMode === 'cluster' ? labRedisCluster(cfg.lab) : labRedis(cfg.lab);
  const pool = labPool(cfg.lab);
  const kafka = labKafka(cfg.lab, name);
  const store = cacheStore(redis, cfg);
  const lock = new FillLock(redis, cfg.keyPrefix, cfg.lockTtlMs);

  let invalidator: Invalidator | undefined; // eslint-disable-line prefer-const -- assigned after the shutdown hook that reads it is set up
  const ctx = serviceContext(name, registry, () => queryHealth(cfg, redis, repo, invalidator));
  const repo = new ProductRepository(pool, ctx.failpoints, metrics);
  const announced = new AnnouncedVersions();
  const { log, failpoints } = ctx;
  const deps = { cfg, store, lock, repo, metrics, log, failpoints, announced };
  const strategy = strategyFor(cfg.stampede, deps);
  invalidator = new Invalidator(kafka, cfg, store, metrics, ctx.log, announced);
  const routes = cacheRoutes({
    name,
    cfg,
    redis,
    log,
    metrics,
    announced,
    invalidator: () => invalidator,
  });

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
    [productReadRoute(strategy, metrics)],
  );

  // Serve reads while the consumer joins (reads do not need it); retry if Kafka is not reachable yet.
  await startInvalidator(invalidator, ctx.log);
}

main().catch((e) => {
  process.stderr.write(
    `query-service failed: ${e instanceof LabError ? e.message : (e as Error).stack}\n`,
  );
  process.exit(1);
});
