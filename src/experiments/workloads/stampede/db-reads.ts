import { bestEffort } from '../../../lib/best-effort';
import * as mysql from 'mysql2/promise';
import type { LabConfig } from '../../../lib/config';
import { DB } from '../../../lib/db';

/**
 * MariaDB's own count of `product` rows read through the primary key (userstat's INDEX_STATISTICS): the
 * independent count of query-service's loads, which are the only primary-key reads of `product` while the
 * storm runs. Unlike Com_select it ignores the exporters' own SELECTs (≈3/s here), so it is exact.
 * Read over a direct connection (not through Toxiproxy), so the latency toxic does not slow the sampling.
 */
export class ProductReads {
  private constructor(
    private readonly conn: mysql.Connection,
    private readonly userstatWas: string,
  ) {}

  static async open(c: LabConfig): Promise<ProductReads> {
    const conn = await mysql.createConnection({
      host: c.host,
      port: c.ports.mysqlUpstream,
      user: DB.user,
      password: DB.password,
      database: DB.name,
      connectTimeout: 5000,
    });
    const [rows] = await conn.query<mysql.RowDataPacket[]>("SHOW GLOBAL VARIABLES LIKE 'userstat'");
    await conn.query('SET GLOBAL userstat = 1');
    return new ProductReads(conn, String(rows[0]?.Value ?? 'OFF'));
  }

  async count(): Promise<number> {
    const [rows] = await this.conn.query<mysql.RowDataPacket[]>(
      "SELECT ROWS_READ FROM information_schema.INDEX_STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'product' AND INDEX_NAME = 'PRIMARY'",
      [DB.name],
    );
    return Number(rows[0]?.ROWS_READ ?? 0);
  }

  /** Samples reads/s every `everyMs` until stopped: the storm's DB load as a time series (x = s since start). */
  sample(everyMs: number): { stop: () => Promise<[number, number][]> } {
    const points: [number, number][] = [];
    const t0 = performance.now();
    let last: { t: number; n: number } | undefined;
    let inFlight: Promise<void> | undefined;
    // A tick that finds the previous read still running is skipped, not queued: a backlog would fire reads back to
    // back and turn 3 loads in 30 ms into a fake "100 reads/s".
    const tick = () => {
      if (inFlight) return;
      inFlight = (async () => {
        const n = await this.count().catch(() => undefined); // a skipped tick: a gap in the plot, not a zero
        const t = performance.now();
        if (n === undefined) return;
        if (last)
          points.push([
            Number(((t - t0) / 1000).toFixed(2)),
            Math.round(((n - last.n) * 1000) / (t - last.t)),
          ]);
        last = { t, n };
      })().finally(() => (inFlight = undefined));
    };
    tick();
    const timer = setInterval(tick, everyMs);
    return {
      stop: async () => {
        clearInterval(timer);
        await inFlight;
        tick();
        await inFlight;
        return points;
      },
    };
  }

  async close(): Promise<void> {
    await bestEffort(
      this.conn.query(`SET GLOBAL userstat = ${this.userstatWas === 'ON' ? 1 : 0}`),
      'restoring userstat',
    );
    await bestEffort(this.conn.end(), 'closing the DB connection');
  }
}
