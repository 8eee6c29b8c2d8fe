import * as mysql from 'mysql2/promise';
import { bestEffort } from './best-effort';
import type { LabConfig } from './config';

export const DB = { name: 'lab', user: 'lab', password: 'lab' } as const;

/** A pool to the `lab` database through the mysql Toxiproxy listener (so DB faults reach the services). */
export function labPool(
  c: Pick<LabConfig, 'host' | 'ports'>,
  opts: mysql.PoolOptions = {},
): mysql.Pool {
  return mysql.createPool({
    host: c.host,
    port: c.ports.mysql,
    user: DB.user,
    password: DB.password,
    database: DB.name,
    connectionLimit: 20,
    connectTimeout: 5000,
    supportBigNumbers: true,
    dateStrings: true,
    ...opts,
  });
}

/** Runs `fn` in one transaction: commit on success, rollback on error. */
export async function inTransaction<T>(
  pool: mysql.Pool,
  fn: (conn: mysql.PoolConnection) => Promise<T>,
): Promise<T> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const out = await fn(conn);
    await conn.commit();
    return out;
  } catch (e) {
    // The error that got us here is what the caller needs; a failed rollback is logged (the server aborts the
    // transaction when the connection goes).
    await bestEffort(conn.rollback(), 'rolling back a failed transaction');
    throw e;
  } finally {
    conn.release();
  }
}
