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

export function outboxRelay(cfg: RelayConfig, ctx: ServiceContext, pool: Pool, producer: Producer, encodeValue: EncodeValue = asIs) {
  // `schema`: json, or the Avro schema the records were written with — so a verdict can count what a deploy shipped.
  const schemaLabel = { schema: cfg.encoding === 'avro' ? cfg.schema : 'json' };
  const m = {
    published: counter(ctx.registry, 'lab_outbox_relay_published_total', 'Outbox rows published to Kafka (a re-published row counts again), by value schema', ['schema']),
    batches: counter(ctx.registry, 'lab_outbox_relay_batches_total', 'Batches claimed and published, by result', ['result']),
    backlog: gauge(ctx.registry, 'lab_outbox_backlog', 'Unpublished outbox rows of this relay (topic and shard)'),
    oldestAge: gauge(ctx.registry, 'lab_outbox_oldest_unpublished_age_seconds', 'Age of the oldest unpublished outbox row of this relay, 0 when none'),
    batchDuration: histogram(ctx.registry, 'lab_outbox_relay_batch_duration_seconds', 'Publish + mark + commit of one claimed batch (empty polls are not batches)'),
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

  /** Opens a transaction and locks the next unpublished rows nobody else holds; null (and no transaction) if none. */
  async function claim(): Promise<Claim | null> {
    const conn = await pool.getConnection();
    try {
      await conn.beginTransaction();
      const [rows] = await conn.query<OutboxRow[]>(
        `SELECT id, event_id, aggregate_id, CAST(payload AS CHAR) AS payload FROM outbox WHERE topic = ? AND published_at IS NULL${shardSql} ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
        [cfg.topic, ...shardArgs, cfg.batchSize],
      );
      if (rows.length) return { conn, rows };
      await conn.commit();
    } catch (e) {
      await conn.rollback().catch(() => {});
      conn.release();
      throw e;
    }
    conn.release();
    return null;
  }

  /** Gives a claim back unpublished (rollback); `attempted` also counts the failed attempt on its rows. */
  async function release(b: Claim, attempted: boolean) {
    await b.conn.rollback().catch(() => {});
    b.conn.release();
    // Outside the rolled-back transaction, so the attempt count survives.
    if (attempted) await pool.query('UPDATE outbox SET attempts = attempts + 1 WHERE id IN (?)', [b.rows.map((r) => r.id)]).catch(() => {});
  }

  /** Publishes a claimed batch, then marks its rows published and commits. On failure the claim is released. */
  async function publish(b: Claim): Promise<void> {
    const { conn, rows } = b;
    const t0 = process.hrtime.bigint();
    try {
      await ctx.failpoints.hit('relay.before-publish');
      // CAST: selected as is, mysql2 parses a JSON column (MariaDB tags it) and the relay had to re-stringify it,
      // which rounded numbers past 2^53 and rewrote the text. As CHAR it is the exact text command-service wrote.
      const values = await Promise.all(rows.map((r) => encodeValue(r.payload)));
      await producer.send({
        topic: cfg.topic,
        acks: -1,
        messages: rows.map((r, i) => ({ key: String(r.aggregate_id), value: values[i], headers: { [EVENT_ID_HEADER]: r.event_id } })),
      });
      await ctx.failpoints.hit('relay.after-publish-before-mark');
      await conn.query('UPDATE outbox SET published_at = CURRENT_TIMESTAMP(3), attempts = attempts + 1 WHERE id IN (?)', [rows.map((r) => r.id)]);
      await conn.commit();
    } catch (e) {
      m.batches.inc({ result: 'error' });
      await release(b, true);
      throw e;
    } finally {
      m.batchDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    conn.release();
    m.published.inc(schemaLabel, rows.length);
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
   * Claim → publish → mark, batch after batch. With RELAY_PIPELINE, a full batch means more rows are waiting, so
   * the next batch is claimed (SKIP LOCKED: the rows after this one) while this one is in flight to Kafka; it is
   * published only after this one is marked, so records still reach Kafka in outbox order, and a failure
   * releases both. The DB round trips then overlap the produce round trip instead of adding to it.
   */
  async function loop() {
    let lastRefresh = 0;
    let cur: Claim | null = null;
    while (running) {
      try {
        cur ??= await claim();
        const full: boolean = cur?.rows.length === cfg.batchSize;
        if (cur) {
          const next: Promise<Claim | null> = cfg.pipeline && full ? claim() : Promise.resolve(null);
          next.catch(() => {}); // awaited below; a rejection meanwhile must not count as unhandled
          try {
            await publish(cur);
          } catch (e) {
            const claimed = await next.catch(() => null);
            if (claimed) await release(claimed, false);
            throw e;
          }
          cur = await next;
        }
        lastError = null;
        if (Date.now() - lastRefresh > 1000) {
          lastRefresh = Date.now();
          await refreshBacklog();
        }
        if (!full) await sleep(cfg.pollMs); // a full batch means more may be waiting: go again at once
      } catch (e) {
        cur = null;
        lastError = (e as Error).message;
        ctx.log.warn({ err: lastError }, 'relay batch failed; rows stay unpublished and will be retried');
        await sleep(Math.max(cfg.pollMs, 500));
      }
    }
    if (cur) await release(cur, false);
  }

  let done: Promise<void> | undefined;
  return {
    start: () => (done = loop()),
    stop: async () => {
      running = false;
      await done;
    },
    health: async () => ({ topic: cfg.topic, shard: `${index}/${count}`, batchSize: cfg.batchSize, pipeline: cfg.pipeline, encoding: cfg.encoding, schema: schemaLabel.schema, lastBatchAt, lastError }),
  };
}
