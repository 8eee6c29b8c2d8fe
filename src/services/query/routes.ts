import type express from 'express';
import { sleep } from '../../lib/wait';
import { HttpError, type HotRoute, type ServiceContext } from '../common/app';
import type { AnnouncedVersions } from './announced-versions';
import { flushPrefix, type RedisClient } from './cache';
import { describeModes, type QueryConfig } from './config';
import type { Invalidator } from './invalidation';
import type { QueryMetrics } from './metrics';
import type { ProductRepository } from './repository';
import type { Strategy } from './stampede/types';

/** Instance 1 is "query-service", others "query-service-<n>": the same names Prometheus gives their targets. */
export function queryServiceName(instance: number): string {
  return instance === 1 ? 'query-service' : `query-service-${instance}`;
}

/** A product id from the URL. Ids are BIGINT: anything else is a client error, and must not become a cache key. */
export function productIdParam(id: string): string {
  if (!/^\d{1,19}$/.test(id))
    throw new HttpError(400, `product id must be a positive integer, got "${id}"`);
  return id;
}

/** /health's report: modes, whether Redis and the DB answer, and the invalidation consumer's state. */
export async function queryHealth(
  cfg: QueryConfig,
  redis: RedisClient,
  repo: Pick<ProductRepository, 'ping'>,
  invalidator: Pick<Invalidator, 'status'> | undefined,
) {
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
}

/** GET /products/:id, the cache-aside read: served before express (see HotRoute), it is the lab's hot path. */
export function productReadRoute(
  strategy: Pick<Strategy, 'get'>,
  metrics: Pick<QueryMetrics, 'requestDuration' | 'instance'>,
): HotRoute {
  const L = { instance: metrics.instance };
  return {
    method: 'GET',
    path: /^\/products\/([^/]+)\/?$/,
    async handle([raw]) {
      const id = productIdParam(raw);
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
}

export interface CacheRouteDeps {
  name: string;
  cfg: QueryConfig;
  redis: RedisClient;
  log: ServiceContext['log'];
  metrics: QueryMetrics;
  announced: AnnouncedVersions;
  invalidator: () => Invalidator | undefined;
}

/** The cache's own routes: flush, what this instance was announced of a product, and its stats. */
export function cacheRoutes(d: CacheRouteDeps) {
  const { cfg } = d;
  return (app: express.Express) => {
    app.post('/cache/flush', async (_req, res) => {
      const deleted = await flushPrefix(d.redis, cfg.keyPrefix);
      d.log.info({ deleted, prefix: cfg.keyPrefix }, 'cache flushed');
      res.json({ deleted, prefix: cfg.keyPrefix });
    });
    // What this instance knows of one product: the newest version its change events announced (E-010 waits on it).
    app.get('/cache/announced/:id', (req, res) => {
      const id = productIdParam(String(req.params.id));
      res.json({ id, announcedVersion: d.announced.get(id) ?? null, mode: cfg.invalidation });
    });
    app.get('/cache/stats', async (_req, res) => {
      res.json({
        service: d.name,
        modes: describeModes(cfg),
        consumer: d.invalidator()?.status(),
        ...(await d.metrics.snapshot()),
      });
    });
  };
}

/** Starts the invalidation consumer, retrying (with a growing pause) while Kafka is not reachable yet. */
export async function startInvalidator(
  invalidator: Pick<Invalidator, 'start' | 'stop'>,
  log: Pick<ServiceContext['log'], 'error'>,
  pause: (ms: number) => Promise<unknown> = sleep,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await invalidator.start();
      return;
    } catch (err) {
      log.error({ err, attempt }, 'invalidation consumer failed to start; retrying');
      await invalidator.stop().catch(() => {});
      await pause(Math.min(5000, 500 * attempt));
    }
  }
}
