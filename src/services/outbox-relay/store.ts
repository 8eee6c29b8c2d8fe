import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { RelayConfig } from './config';

export interface OutboxRow extends RowDataPacket {
  id: number;
  event_id: string;
  aggregate_id: number;
  payload: string;
}

/** A batch claimed in its own transaction: its rows stay locked (FOR UPDATE) until it commits or rolls back. */
export interface Claim {
  conn: PoolConnection;
  rows: OutboxRow[];
}

/** Rows claimed although an earlier unpublished row of their aggregate is held by another relay. */
export type OnOverlap = (rows: OutboxRow[], aggregates: number[]) => void;

/**
 * The relay's DB side and nothing else: claim, mark, release. `npm run bench` runs it alone (no Kafka) to measure
 * the relay's DB limit, so what is measured there is exactly what the relay does here.
 */
export function outboxStore(
  pool: Pool,
  cfg: Pick<RelayConfig, 'topic' | 'batchSize' | 'shard'>,
  onOverlap: OnOverlap = () => {},
): OutboxStore {
  return new OutboxStore(pool, cfg, onOverlap);
}

export class OutboxStore {
  private readonly shardSql: string;
  private readonly shardArgs: number[];
  private readonly readCommitted = new WeakSet<object>();

  constructor(
    private readonly pool: Pool,
    private readonly cfg: Pick<RelayConfig, 'topic' | 'batchSize' | 'shard'>,
    private readonly onOverlap: OnOverlap = () => {},
  ) {
    const { index, count } = cfg.shard;
    this.shardSql = count > 1 ? ' AND MOD(aggregate_id, ?) = ?' : '';
    this.shardArgs = count > 1 ? [count, index] : [];
  }

  /**
   * READ COMMITTED, set once per connection: under REPEATABLE READ the locking read also takes next-key (gap) locks
   * on the index it walks, which block command-service's outbox INSERTs until the batch commits — measured in
   * E-011: a change sent while a batch was held waited the whole hold. Rows are still locked one by one; SKIP
   * LOCKED works the same. Once per connection, not per claim: one round trip less per batch.
   */
  private async begin(): Promise<PoolConnection> {
    const conn = await this.pool.getConnection();
    try {
      if (!this.readCommitted.has(conn.connection)) {
        await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
        this.readCommitted.add(conn.connection);
      }
      await conn.beginTransaction();
      return conn;
    } catch (e) {
      conn.release();
      throw e;
    }
  }

  /** Is there any unpublished row at all? One indexed read, no transaction: what makes a short poll cheap. */
  async probe(): Promise<boolean> {
    const [any] = await this.pool.query<RowDataPacket[]>(
      `SELECT 1 FROM outbox WHERE topic = ? AND published_at IS NULL${this.shardSql} LIMIT 1`,
      [this.cfg.topic, ...this.shardArgs],
    );
    return any.length > 0;
  }

  /**
   * Opens a transaction and locks the next unpublished rows nobody else holds; null (and no transaction) if none.
   * `own`: ids this relay holds in its other open claims (the pipeline's batch in flight), not another relay's.
   */
  async claim(own: number[] = []): Promise<Claim | null> {
    const conn = await this.begin();
    try {
      const [rows] = await conn.query<OutboxRow[]>(
        `SELECT id, event_id, aggregate_id, CAST(payload AS CHAR) AS payload FROM outbox WHERE topic = ? AND published_at IS NULL${this.shardSql} ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
        [this.cfg.topic, ...this.shardArgs, this.cfg.batchSize],
      );
      if (rows.length) {
        await this.countOverlaps(conn, rows, own);
        return { conn, rows };
      }
      await conn.commit();
    } catch (e) {
      await conn.rollback().catch(() => {});
      conn.release();
      throw e;
    }
    conn.release();
    return null;
  }

  /**
   * SKIP LOCKED passes rows another relay holds, so a claim may hold a later event of an aggregate whose earlier
   * one is still in the other relay's hands: both then race to Kafka. First an index-only count of the unpublished
   * rows up to the batch's last id: when they are just this batch and our own open claims, nothing was passed
   * (the usual case, and the whole cost). Only otherwise the aggregates are compared.
   */
  private async countOverlaps(conn: PoolConnection, rows: OutboxRow[], own: number[]) {
    const ids = rows.map((r) => r.id);
    const max = Math.max(...ids);
    const mine = [...ids, ...own.filter((id) => id < max)];
    const [[{ n }]] = await conn.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM outbox WHERE topic = ? AND published_at IS NULL${this.shardSql} AND id <= ?`,
      [this.cfg.topic, ...this.shardArgs, max],
    );
    if (Number(n) === mine.length) return;
    const [earlier] = await conn.query<RowDataPacket[]>(
      `SELECT DISTINCT aggregate_id FROM outbox WHERE topic = ? AND published_at IS NULL AND id < ? AND id NOT IN (?) AND aggregate_id IN (?)`,
      [this.cfg.topic, max, mine, [...new Set(rows.map((r) => r.aggregate_id))]],
    );
    if (!earlier.length) return;
    const passed = new Set(earlier.map((r) => Number(r.aggregate_id)));
    this.onOverlap(
      rows.filter((r) => passed.has(Number(r.aggregate_id))),
      [...passed],
    );
  }

  /** Marks a sent batch published and commits: one multi-row UPDATE by primary key, then the COMMIT (its fsync). */
  async mark(b: Claim): Promise<void> {
    await b.conn.query(
      'UPDATE outbox SET published_at = CURRENT_TIMESTAMP(3), attempts = attempts + 1 WHERE id IN (?)',
      [b.rows.map((r) => r.id)],
    );
    await b.conn.commit();
    b.conn.release();
  }

  /**
   * Gives a claim back unpublished. `attempted`: it was sent (or tried), so its rows' attempt count goes up, in the
   * claim's own transaction before it ends. Written after a rollback instead, the count raced the relay's own next
   * claim: issued before the failure, that claim could take the rows once rolled back, and the count's UPDATE then
   * waited on a lock only the relay's loop would release — until the lock wait timed out and the count was lost.
   * Throws what failed after rolling back; the rows stay unpublished either way.
   */
  async release(b: Claim, attempted: boolean): Promise<void> {
    try {
      if (attempted) {
        await b.conn.query('UPDATE outbox SET attempts = attempts + 1 WHERE id IN (?)', [
          b.rows.map((r) => r.id),
        ]);
        await b.conn.commit(); // published_at stays NULL: the rows go out again
      } else await b.conn.rollback();
    } catch (e) {
      await b.conn.rollback().catch(() => {}); // the connection is likely what failed: the error worth telling is e
      throw e;
    } finally {
      b.conn.release();
    }
  }

  /** Unpublished rows of this relay's topic and shard, and the age of the oldest (s). */
  async backlog(): Promise<{ n: number; age: number }> {
    const [rows] = await this.pool.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n, COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), CURRENT_TIMESTAMP(3)), 0) / 1e6 AS age FROM outbox WHERE topic = ? AND published_at IS NULL${this.shardSql}`,
      [this.cfg.topic, ...this.shardArgs],
    );
    return { n: Number(rows[0].n), age: Number(rows[0].age) };
  }
}
