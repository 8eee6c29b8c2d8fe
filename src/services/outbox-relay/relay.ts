import type { Producer } from 'kafkajs';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { EVENT_ID_HEADER } from '../../lib/events';
import { counter, gauge, histogram } from '../../lib/metrics';
import { sleep } from '../../lib/wait';
import type { ServiceContext } from '../common/app';
import type { RelayConfig } from './config';

interface OutboxRow extends RowDataPacket {
  id: number;
  event_id: string;
  aggregate_id: number;
  payload: string | object;
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
    batchDuration: histogram(ctx.registry, 'lab_outbox_relay_batch_duration_seconds', 'Claim + publish + mark of one batch'),
  };
  const { index, count } = cfg.shard;
  const shardSql = count > 1 ? ' AND MOD(aggregate_id, ?) = ?' : '';
  const shardArgs = count > 1 ? [count, index] : [];
  let running = true;
  let lastBatchAt: string | null = null;
  let lastError: string | null = null;

  /** One claim–publish–mark cycle. Returns how many rows it published. */
  async function tick(): Promise<number> {
    const conn = await pool.getConnection();
    const t0 = process.hrtime.bigint();
    let ids: number[] = [];
    try {
      await conn.beginTransaction();
      const [rows] = await conn.query<OutboxRow[]>(
        `SELECT id, event_id, aggregate_id, payload FROM outbox WHERE topic = ? AND published_at IS NULL${shardSql} ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
        [cfg.topic, ...shardArgs, cfg.batchSize],
      );
      if (!rows.length) {
        await conn.commit();
        return 0;
      }
      ids = rows.map((r) => r.id);
      await ctx.failpoints.hit('relay.before-publish');
      // MariaDB's JSON is LONGTEXT: the payload arrives as the exact string command-service wrote.
      const values = await Promise.all(rows.map((r) => encodeValue(typeof r.payload === 'string' ? r.payload : JSON.stringify(r.payload))));
      await producer.send({
        topic: cfg.topic,
        acks: -1,
        messages: rows.map((r, i) => ({ key: String(r.aggregate_id), value: values[i], headers: { [EVENT_ID_HEADER]: r.event_id } })),
      });
      await ctx.failpoints.hit('relay.after-publish-before-mark');
      await conn.query('UPDATE outbox SET published_at = CURRENT_TIMESTAMP(3), attempts = attempts + 1 WHERE id IN (?)', [ids]);
      await conn.commit();
      m.published.inc(schemaLabel, rows.length);
      m.batches.inc({ result: 'ok' });
      lastBatchAt = new Date().toISOString();
      return rows.length;
    } catch (e) {
      await conn.rollback().catch(() => {});
      m.batches.inc({ result: 'error' });
      // Outside the rolled-back transaction, so the attempt count survives.
      if (ids.length) await pool.query('UPDATE outbox SET attempts = attempts + 1 WHERE id IN (?)', [ids]).catch(() => {});
      throw e;
    } finally {
      // Empty polls are not batches: observing them would drown the real batch latencies.
      if (ids.length) m.batchDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      conn.release();
    }
  }

  async function refreshBacklog() {
    const [rows] = await pool.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n, COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), CURRENT_TIMESTAMP(3)), 0) / 1e6 AS age FROM outbox WHERE topic = ? AND published_at IS NULL${shardSql}`,
      [cfg.topic, ...shardArgs],
    );
    m.backlog.set(Number(rows[0].n));
    m.oldestAge.set(Number(rows[0].age));
  }

  async function loop() {
    let lastRefresh = 0;
    while (running) {
      try {
        const n = await tick();
        lastError = null;
        if (Date.now() - lastRefresh > 1000) {
          lastRefresh = Date.now();
          await refreshBacklog();
        }
        if (n < cfg.batchSize) await sleep(cfg.pollMs); // a full batch means more may be waiting: go again at once
      } catch (e) {
        lastError = (e as Error).message;
        ctx.log.warn({ err: lastError }, 'relay batch failed; rows stay unpublished and will be retried');
        await sleep(Math.max(cfg.pollMs, 500));
      }
    }
  }

  let done: Promise<void> | undefined;
  return {
    start: () => (done = loop()),
    stop: async () => {
      running = false;
      await done;
    },
    health: async () => ({ topic: cfg.topic, shard: `${index}/${count}`, batchSize: cfg.batchSize, encoding: cfg.encoding, schema: schemaLabel.schema, lastBatchAt, lastError }),
  };
}
