import * as fs from 'node:fs';
import * as path from 'node:path';
import { labPaths, type LabConfig } from '../../lib/config';
import { DB_PASSWORD, DB_USER } from './mariadb';
import type { Component } from './component';

const metricsUp = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1500) })).ok;

/** Exporters read the servers directly (not through Toxiproxy): a latency toxic must not blind the metrics. */
export function exporterComponents(c: LabConfig): Component[] {
  const cnf = path.join(labPaths(c).conf, 'mysqld-exporter.cnf');
  return [
    {
      name: 'mysqld-exporter',
      ports: [{ key: 'mysqldExporter', port: c.ports.mysqldExporter }],
      async prepare() {
        fs.mkdirSync(path.dirname(cnf), { recursive: true });
        fs.writeFileSync(cnf, `[client]\nuser=${DB_USER}\npassword=${DB_PASSWORD}\nhost=${c.host}\nport=${c.ports.mysqlUpstream}\n`, { mode: 0o600 });
      },
      spec: () => ({
        name: 'mysqld-exporter',
        command: '/usr/bin/prometheus-mysqld-exporter',
        args: [`--config.my-cnf=${cnf}`, `--web.listen-address=${c.host}:${c.ports.mysqldExporter}`],
      }),
      healthy: () => metricsUp(c.ports.mysqldExporter),
      startTimeoutMs: 15_000,
      scrape: { job: 'mysqld', target: `${c.host}:${c.ports.mysqldExporter}` },
    },
    {
      name: 'redis-exporter',
      ports: [{ key: 'redisExporter', port: c.ports.redisExporter }],
      async prepare() {},
      spec: () => ({
        name: 'redis-exporter',
        command: '/usr/bin/prometheus-redis-exporter',
        args: ['-redis.addr', `redis://${c.host}:${c.ports.redisUpstream}`, '-web.listen-address', `${c.host}:${c.ports.redisExporter}`],
      }),
      healthy: () => metricsUp(c.ports.redisExporter),
      startTimeoutMs: 15_000,
      scrape: { job: 'redis', target: `${c.host}:${c.ports.redisExporter}` },
    },
  ];
}
