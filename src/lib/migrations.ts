import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';
import { Umzug, type UmzugStorage } from 'umzug';
import { bestEffort } from './best-effort';
import type { LabConfig } from './config';
import { DB } from './db';
import { LabError } from './errors';

/** Flyway's file naming: V<version>__<description>.sql. Anything else in the folder is a mistake, not ignored. */
const FILE_RE = /^V(\d+(?:[._]\d+)*)__(\w+)\.sql$/;
export const HISTORY_TABLE = 'lab_schema_history';
const LOCK = 'lab_schema_migrate';

export class MigrationError extends LabError {}

export interface MigrationFile {
  version: string;
  description: string;
  script: string;
  file: string;
  checksum: string;
}

export const migrationDir = (c: Pick<LabConfig, 'root'>) => path.join(c.root, 'db', 'migration');

/** The migration files sorted by numeric version (V2 before V10, which a lexical glob would get wrong). */
export function migrationFiles(dir: string): MigrationFile[] {
  const key = (v: string) => v.split(/[._]/).map(Number);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sql'));
  const out = files.map((script) => {
    const m = FILE_RE.exec(script);
    if (!m)
      throw new MigrationError(
        `${path.join(dir, script)}: not a migration name; rename it to V<n>__<description>.sql`,
      );
    const file = path.join(dir, script);
    return {
      version: m[1].replace(/_/g, '.'),
      description: m[2].replace(/_/g, ' '),
      script,
      file,
      checksum: createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16),
    };
  });
  out.sort((a, b) => {
    const ka = key(a.version),
      kb = key(b.version);
    for (let i = 0; i < Math.max(ka.length, kb.length); i++)
      if ((ka[i] ?? 0) !== (kb[i] ?? 0)) return (ka[i] ?? 0) - (kb[i] ?? 0);
    return 0;
  });
  for (let i = 1; i < out.length; i++)
    if (out[i].version === out[i - 1].version)
      throw new MigrationError(
        `two migrations share version ${out[i].version}: ${out[i - 1].script}, ${out[i].script}; renumber one`,
      );
  return out;
}

/** umzug storage in a Flyway-shaped history table, so anyone who knows Flyway can read it. */
function historyStorage(conn: mysql.Connection, files: MigrationFile[]): UmzugStorage {
  const byName = new Map(files.map((f) => [f.script, f]));
  return {
    async logMigration({ name }) {
      const f = byName.get(name);
      if (!f) throw new Error(`umzug logged ${name}, which is not a file in db/migrations`);
      await conn.query(
        `INSERT INTO ${HISTORY_TABLE} (version, description, script, checksum, success) VALUES (?, ?, ?, ?, 1)`,
        [f.version, f.description, f.script, f.checksum],
      );
    },
    async unlogMigration({ name }) {
      await conn.query(`DELETE FROM ${HISTORY_TABLE} WHERE script = ?`, [name]);
    },
    async executed() {
      const [rows] = await conn.query(
        `SELECT script, checksum FROM ${HISTORY_TABLE} WHERE success = 1 ORDER BY installed_rank`,
      );
      for (const r of rows as { script: string; checksum: string }[]) {
        const f = byName.get(r.script);
        // An applied file that changed means the DB and the repo disagree; re-running would not fix it.
        if (f && f.checksum !== r.checksum)
          throw new MigrationError(
            `${r.script} changed after it was applied (checksum ${r.checksum} → ${f.checksum}); add a new V<n+1> migration instead of editing it`,
          );
      }
      return (rows as { script: string }[]).map((r) => r.script);
    },
  };
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Applies pending db/migration/V*.sql files in version order, each recorded in lab_schema_history. Idempotent and
 * safe to call from several processes at once: a named MariaDB lock serialises them.
 */
export async function migrate(
  c: Pick<LabConfig, 'host' | 'ports' | 'root'>,
  dir = migrationDir(c),
): Promise<MigrateResult> {
  const files = migrationFiles(dir);
  const conn = await mysql.createConnection({
    host: c.host,
    port: c.ports.mysql,
    user: DB.user,
    password: DB.password,
    database: DB.name,
    multipleStatements: true,
    connectTimeout: 5000,
  });
  try {
    const [[lock]] = (await conn.query('SELECT GET_LOCK(?, 60) AS ok', [LOCK])) as unknown as [
      { ok: number }[],
    ];
    if (lock.ok !== 1)
      throw new MigrationError(
        `could not take the migration lock ${LOCK} in 60 s: another migrate is stuck; find it with SELECT * FROM information_schema.processlist`,
      );
    await conn.query(`CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
      installed_rank INT NOT NULL AUTO_INCREMENT PRIMARY KEY, version VARCHAR(50) NOT NULL, description VARCHAR(200) NOT NULL,
      script VARCHAR(1000) NOT NULL, checksum VARCHAR(64) NOT NULL, installed_on TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
      success TINYINT(1) NOT NULL, UNIQUE KEY uq_history_version (version)) ENGINE=InnoDB`);
    const umzug = new Umzug({
      migrations: files.map((f) => ({
        name: f.script,
        path: f.file,
        up: async () => {
          try {
            await conn.query(fs.readFileSync(f.file, 'utf8'));
          } catch (e) {
            // DDL auto-commits in MariaDB: a half-applied file needs a human, so say which one.
            throw new MigrationError(
              `${f.script} failed: ${(e as Error).message}; fix the SQL (statements use IF NOT EXISTS so a re-run is safe) and migrate again`,
              { cause: e },
            );
          }
        },
      })),
      storage: historyStorage(conn, files),
      context: {},
      logger: undefined,
    });
    const before = await umzug.executed();
    // umzug wraps a failing migration's error in its own; surface ours, which carries the fix.
    const ran = await umzug.up().catch((e: { cause?: unknown }) => {
      throw e.cause instanceof MigrationError ? e.cause : e;
    });
    return { applied: ran.map((m) => m.name), alreadyApplied: before.map((m) => m.name) };
  } finally {
    // MariaDB releases a named lock when its connection closes, so a failed RELEASE_LOCK holds nothing.
    await bestEffort(conn.query('SELECT RELEASE_LOCK(?)', [LOCK]), 'releasing the migration lock');
    await bestEffort(conn.end(), 'closing the migration connection');
  }
}
