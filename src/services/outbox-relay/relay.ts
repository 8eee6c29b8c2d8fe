import type { Producer } from 'kafkajs';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { EVENT_ID_HEADER } from '../../lib/events';
import { counter, gauge, histogram } from '../../lib/metrics';
import { sleep } from '../../lib/wait';
import type { ServiceContext } from '../common/app';
import type { RelayConfig } from './config';

interface OutboxRow extends RowDataPacket {
  id: number;
  event_id: string;
  aggregate_id: number;
  payload: string;
}

/**
 * Claims unpublished outbox rows in id order (FOR UPDATE SKIP LOCKED, held for the whole batch), publishes them,
 * then marks them published in the same transaction. At-least-once: a death between publish and commit leaves the
 * rows unpublished, so the next relay publishes them again — consumers dedup on eventId.
 */
/** The record value for an outbox payload (the JSON text command-service wrote): as is, or re-encoded (Avro). */
export type EncodeValue = (payload: string) => Promise<string | Buffer>;
const asIs: EncodeValue = async (payload) => payload;

export function outboxRelay(
  cfg: RelayConfig,
  ctx: ServiceContext,
  pool: Pool,
  producer: Producer,
  encodeValue: EncodeValue = asIs,
) {
  // `schema`: json, or the Avro schema the records were written with — so a verdict can count what a deploy shipped.
  const schemaLabel = { schema: cfg.encoding === 'avro' ? cfg.schema : 'json' };
  const m = {
    published: counter(
      ctx.registry,
      'lab_outbox_relay_published_total',
      'Outbox rows published to Kafka (a re-published row counts again), by value schema',
      ['schema'],
    ),
    batches: counter(
      ctx.registry,
      'lab_outbox_relay_batches_total',
      'Batches claimed and published, by result',
      ['result'],
    ),
    backlog: gauge(
      ctx.registry,
      'lab_outbox_backlog',
      'Unpublished outbox rows of this relay (topic and shard)',
    ),
    oldestAge: gauge(
      ctx.registry,
      'lab_outbox_oldest_unpublished_age_seconds',
      'Age of the oldest unpublished outbox row of this relay, 0 when none',
    ),
    claimOverlaps: counter(
      ctx.registry,
      'lab_outbox_relay_claim_overlaps_total',
      'Rows claimed while an earlier unpublished row of the same aggregate was held by another relay (SKIP LOCKED passed it): their order on the topic is left to timing',
    ),
    batchDuration: histogram(
      ctx.registry,
      'lab_outbox_relay_batch_duration_seconds',
      'Publish + mark + commit of one claimed batch (empty polls are not batches)',
    ),
  };
  const { index, count } = cfg.shard;
  const shardSql = count > 1 ? ' AND MOD(aggregate_id, ?) = ?' : '';
  const shardArgs = count > 1 ? [count, index] : [];
  let running = true;
  let lastBatchAt: string | null = null;
  let lastError: string | null = null;

  /** A batch claimed in its own transaction: its rows stay locked (FOR UPDATE) until it commits or rolls back. */
  interface Claim {
    conn: PoolConnection;
    rows: OutboxRow[];
  }

  /**
   * Opens a transaction and locks the next unpublished rows nobody else holds; null (and no transaction) if none.
   * `probe`: first ask, without a transaction or locks, whether there is any row at all. An idle relay polls, and
   * one indexed read per poll instead of BEGIN + locking SELECT + COMMIT is what makes a short RELAY_POLL_MS cheap.
   */
  async function claim(probe: boolean): Promise<Claim | null> {
    if (probe) {
      const [any] = await pool.query<RowDataPacket[]>(
        `SELECT 1 FROM outbox WHERE topic = ? AND published_at IS NULL${shardSql} LIMIT 1`,
        [cfg.topic, ...shardArgs],
      );
      if (!any.length) return null;
    }
    const conn = await pool.getConnection();
    try {
      // READ COMMITTED: under REPEATABLE READ the locking read also takes next-key (gap) locks on the index it walks,
      // which block command-service's outbox INSERTs until this batch commits — measured in E-011: a change sent
      // while a batch was held waited the whole hold. Rows are still locked one by one; SKIP LOCKED works the same.
      await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
      await conn.beginTransaction();
      const [rows] = await conn.query<OutboxRow[]>(
        `SELECT id, event_id, aggregate_id, CAST(payload AS CHAR) AS payload FROM outbox WHERE topic = ? AND published_at IS NULL${shardSql} ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
        [cfg.topic, ...shardArgs, cfg.batchSize],
      );
      if (rows.length) {
        await countOverlaps(conn, rows);
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
   * SKIP LOCKED passes rows another relay holds, so a claim may hold a later event of an aggregate whose earlier one
   * is still in the other relay's hands: both then race to Kafka. Counted (one indexed read of the few unpublished
   * rows before the batch); relays sharded by aggregate (RELAY_SHARD) never overlap.
   */
  async function countOverlaps(conn: PoolConnection, rows: OutboxRow[]) {
    const ids = rows.map((r) => r.id);
    const [earlier] = await conn.query<RowDataPacket[]>(
      `SELECT DISTINCT aggregate_id FROM outbox WHERE topic = ? AND published_at IS NULL AND id < ? AND id NOT IN (?) AND aggregate_id IN (?)`,
      [cfg.topic, Math.max(...ids), ids, [...new Set(rows.map((r) => r.aggregate_id))]],
    );
    if (!earlier.length) return;
    const passed = new Set(earlier.map((r) => Number(r.aggregate_id)));
    const overlapping = rows.filter((r) => passed.has(Number(r.aggregate_id)));
    m.claimOverlaps.inc(overlapping.length);
    ctx.log.warn(
      { aggregates: [...passed], rows: overlapping.map((r) => r.id) },
      'claimed rows whose aggregate has an earlier row held by another relay: they may reach Kafka first',
    );
  }

  /**
   * Gives a claim back unpublished. `attempted`: it was sent (or tried), so its rows' attempt count goes up, in the
   * claim's own transaction before it ends. Written after a rollback instead, the count raced the relay's own next
   * claim: issued before the failure, that claim could take the rows once rolled back, and the count's UPDATE then
   * waited on a lock only this loop would release — until the lock wait timed out and the count was lost.
   */
  async function release(b: Claim, attempted: boolean) {
    try {
      if (attempted) {
        await b.conn.query('UPDATE outbox SET attempts = attempts + 1 WHERE id IN (?)', [
          b.rows.map((r) => r.id),
        ]);
        await b.conn.commit(); // published_at stays NULL: the rows go out again
      } else await b.conn.rollback();
    } catch (e) {
      // The connection is likely what failed (a failed mark): the transaction dies with it, the rows stay unpublished.
      await b.conn.rollback().catch(() => {}); // the error worth telling is `e`, logged below
      ctx.log.warn(
        { rows: b.rows.map((r) => r.id), err: (e as Error).message },
        attempted
          ? "a failed batch's publish attempt could not be counted; its rows stay unpublished"
          : 'a claimed batch could not be rolled back cleanly; its rows stay unpublished',
      );
    } finally {
      b.conn.release();
    }
  }

  /** Sends a claimed batch to Kafka (acks=all). Its rows stay locked and unmarked until mark(). */
  async function send({ rows }: Claim): Promise<void> {
    // Keyed by the batch's aggregates, so a run can hold the one batch that carries a given product's event.
    await ctx.failpoints.hit(
      'relay.before-publish',
      rows.map((r) => String(r.aggregate_id)),
    );
    // CAST: selected as is, mysql2 parses a JSON column (MariaDB tags it) and the relay had to re-stringify it,
    // which rounded numbers past 2^53 and rewrote the text. As CHAR it is the exact text command-service wrote.
    const values = await Promise.all(rows.map((r) => encodeValue(r.payload)));
    await producer.send({
      topic: cfg.topic,
      acks: -1,
      messages: rows.map((r, i) => ({
        key: String(r.aggregate_id),
        value: values[i],
        headers: { [EVENT_ID_HEADER]: r.event_id },
      })),
    });
    await ctx.failpoints.hit('relay.after-publish-before-mark');
  }

  /** Marks a sent batch published and commits: from then on it is not published again. On failure it is released. */
  async function mark(b: Claim, t0: bigint): Promise<void> {
    try {
      await b.conn.query(
        'UPDATE outbox SET published_at = CURRENT_TIMESTAMP(3), attempts = attempts + 1 WHERE id IN (?)',
        [b.rows.map((r) => r.id)],
      );
      await b.conn.commit();
    } catch (e) {
      m.batches.inc({ result: 'error' });
      await release(b, true);
      throw e;
    }
    b.conn.release();
    m.batchDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    m.published.inc(schemaLabel, b.rows.length);
    m.batches.inc({ result: 'ok' });
    lastBatchAt = new Date().toISOString();
  }

  async function refreshBacklog() {
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n, COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), CURRENT_TIMESTAMP(3)), 0) / 1e6 AS age FROM outbox WHERE topic = ? AND published_at IS NULL${shardSql}`,
      [cfg.topic, ...shardArgs],
    );
    m.backlog.set(Number(rows[0].n));
    m.oldestAge.set(Number(rows[0].age));
  }

  /**
   * Claim → send → mark, batch after batch. With RELAY_PIPELINE, a full batch means more rows are waiting, so
   * while it is in flight to Kafka the next batch is claimed (SKIP LOCKED: the rows after it) and the previous one
   * is marked and committed: the DB's two round trips and its fsync overlap the produce instead of adding to it.
   * Sends stay one at a time, so records reach Kafka in outbox order; a batch is marked only after the one before
   * it, and any failure releases every claim still open — those rows are published again, never skipped.
   */
  async function loop() {
    let lastRefresh = 0;
    let cur: Claim | null = null;
    let marking: Promise<void> = Promise.resolve(); // the previous batch's mark + commit (pipeline: still running)
    let full = false; // the last batch was full: more rows are likely waiting, claim without probing
    while (running) {
      let next: Promise<Claim | null> = Promise.resolve(null);
      try {
        cur ??= await claim(!full);
        full = cur?.rows.length === cfg.batchSize;
        if (cur) {
          if (cfg.pipeline && full) next = claim(false);
          next.catch(() => {}); // awaited below or released on failure; a rejection meanwhile is not unhandled
          const t0 = process.hrtime.bigint();
          const [sent, marked] = await Promise.allSettled([send(cur), marking]);
          if (sent.status === 'rejected' || marked.status === 'rejected') {
            // Sent or not, cur is released: the batch before it is not marked, so both go out again in order.
            if (sent.status === 'rejected') m.batches.inc({ result: 'error' }); // a failed mark counted itself
            const b: Claim = cur;
            cur = null;
            await release(b, true);
            throw sent.status === 'rejected'
              ? sent.reason
              : (marked as PromiseRejectedResult).reason;
          }
          const b: Claim = cur;
          cur = null;
          marking = mark(b, t0);
          marking.catch(() => {}); // awaited with the next send, or below when no batch follows at once
          if (!cfg.pipeline) await marking;
          cur = await next;
        }
        if (!full) await marking; // nothing in flight while idle: a failed mark surfaces now, not at the next batch
        lastError = null;
        if (Date.now() - lastRefresh > 1000) {
          lastRefresh = Date.now();
          await refreshBacklog();
        }
        if (!full) await sleep(cfg.pollMs); // a full batch means more may be waiting: go again at once
      } catch (e) {
        // Claims never sent go back as they were; a mark still running finishes (or releases its batch) first.
        if (cur) await release(cur, false);
        const claimed = await next.catch(() => null);
        if (claimed && claimed !== cur) await release(claimed, false);
        await marking.catch(() => {});
        [cur, marking, full] = [null, Promise.resolve(), false];
        lastError = (e as Error).message;
        ctx.log.warn(
          { err: lastError },
          'relay batch failed; rows stay unpublished and will be retried',
        );
        await sleep(Math.max(cfg.pollMs, 500));
      }
    }
    await marking.catch(() => {});
    if (cur) await release(cur, false);
  }

  let done: Promise<void> | undefined;
  return {
    start: () => (done = loop()),
    stop: async () => {
      running = false;
      await done;
    },
    health: async () => ({
      topic: cfg.topic,
      shard: `${index}/${count}`,
      batchSize: cfg.batchSize,
      pipeline: cfg.pipeline,
      encoding: cfg.encoding,
      schema: schemaLabel.schema,
      lastBatchAt,
      lastError,
    }),
  };
}
