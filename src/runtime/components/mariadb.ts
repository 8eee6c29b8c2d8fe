import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';
import { labPaths, type LabConfig } from '../../lib/config';
import { ProvisionError } from '../../lib/errors';
import type { Component } from './component';

export const DB_NAME = 'lab';
export const DB_USER = 'lab';
export const DB_PASSWORD = 'lab';

/** MariaDB (Debian's MySQL-compatible server) with its own datadir, listening only on loopback. */
export function mariadbComponent(c: LabConfig): Component {
  const dir = path.join(labPaths(c).data, 'mariadb');
  const socket = path.join(labPaths(c).run, 'mariadb.sock');
  return {
    name: 'mariadb',
    ports: [{ key: 'mysqlUpstream', port: c.ports.mysqlUpstream }],
    async prepare() {
      if (fs.existsSync(path.join(dir, 'mysql'))) return;
      fs.mkdirSync(dir, { recursive: true });
      try {
        execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${dir}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], {
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 120_000,
        });
      } catch (e) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw new ProvisionError(`mariadb-install-db failed: ${String((e as { stderr?: Buffer }).stderr ?? e).slice(0, 400)}`, { cause: e });
      }
    },
    spec: () => ({
      name: 'mariadb',
      command: '/usr/sbin/mariadbd',
      args: [
        '--no-defaults', `--datadir=${dir}`, `--port=${c.ports.mysqlUpstream}`, `--bind-address=${c.host}`,
        `--socket=${socket}`, `--pid-file=${path.join(labPaths(c).run, 'mariadb.pid')}`, '--user=root',
        '--skip-name-resolve', '--max-connections=500', '--innodb-buffer-pool-size=128M',
        // Durable commits, like a production MySQL: a crash after COMMIT must not lose the row.
        '--innodb-flush-log-at-trx-commit=1', '--log-error=' + path.join(labPaths(c).logs, 'mariadb-error.log'),
        '--character-set-server=utf8mb4', '--collation-server=utf8mb4_bin',
      ],
    }),
    async healthy() {
      const conn = await mysql.createConnection({ socketPath: socket, user: 'root', connectTimeout: 1000 });
      await conn.query('SELECT 1');
      await conn.end();
      return true;
    },
    async afterStart() {
      const conn = await mysql.createConnection({ socketPath: socket, user: 'root', multipleStatements: true });
      await conn.query(
        `CREATE DATABASE IF NOT EXISTS \`${DB_NAME}\`;
         CREATE USER IF NOT EXISTS '${DB_USER}'@'%' IDENTIFIED BY '${DB_PASSWORD}';
         GRANT ALL PRIVILEGES ON *.* TO '${DB_USER}'@'%' WITH GRANT OPTION;
         FLUSH PRIVILEGES;`,
      );
      await conn.end();
    },
    startTimeoutMs: 60_000,
  };
}
