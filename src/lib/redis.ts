import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { LabConfig } from './config';

/** An ioredis client through the redis Toxiproxy listener. Bounded retries: a lab must fail, not hang. */
export function labRedis(c: Pick<LabConfig, 'host' | 'ports'>, opts: RedisOptions = {}): Redis {
  const r = new Redis({
    host: c.host,
    port: c.ports.redis,
    maxRetriesPerRequest: 2,
    connectTimeout: 3000,
    enableOfflineQueue: true,
    ...opts,
  });
  r.on('error', () => {}); // errors surface on the commands that fail; the event would crash the process otherwise
  return r;
}

/** The lab's Redis Cluster (`chaos up --redis cluster`): 3 masters + 3 replicas, one Toxiproxy proxy each. */
export const REDIS_CLUSTER_NODES = 6;

/** Every cluster node's proxy, in node order: where clients bootstrap and what MOVED/ASK redirect to. */
export const redisClusterProxies = (c: Pick<LabConfig, 'host' | 'ports'>) =>
  Array.from({ length: REDIS_CLUSTER_NODES }, (_, i) => ({
    host: c.host,
    port: c.ports.redisClusterProxy + i,
  }));

/**
 * An ioredis Cluster client bootstrapped from every node's proxy. The nodes announce their proxies' addresses,
 * so redirects and slot maps already name the proxies: no natMap. Bounded retries, as for `labRedis`.
 */
export function labRedisCluster(
  c: Pick<LabConfig, 'host' | 'ports'>,
  opts: ClusterOptions = {},
): Cluster {
  const r = new Cluster(redisClusterProxies(c), {
    redisOptions: { connectTimeout: 3000, maxRetriesPerRequest: 2 },
    clusterRetryStrategy: (times) => (times > 10 ? null : Math.min(100 * times, 1000)),
    ...opts,
  });
  r.on('error', () => {}); // as for labRedis: the failing command carries the error
  return r;
}
