import Redis, { type RedisOptions } from 'ioredis';
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
