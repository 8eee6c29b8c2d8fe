import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { labPaths, type LabConfig } from '../../lib/config';
import type { Component } from './component';

/** Redis with its own dir and no persistence: the cache is disposable by design. */
export function redisComponent(c: LabConfig): Component {
  const dir = path.join(labPaths(c).data, 'redis');
  return {
    name: 'redis',
    ports: [{ key: 'redisUpstream', port: c.ports.redisUpstream }],
    async prepare() {
      fs.mkdirSync(dir, { recursive: true });
    },
    spec: () => ({
      name: 'redis',
      command: '/usr/bin/redis-server',
      args: ['--port', String(c.ports.redisUpstream), '--bind', c.host, '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--maxclients', '2000'],
    }),
    async healthy() {
      const r = new Redis({ host: c.host, port: c.ports.redisUpstream, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => {}); // surfaced by connect()
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    },
    startTimeoutMs: 15_000,
  };
}
