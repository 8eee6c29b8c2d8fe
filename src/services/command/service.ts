import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { z } from 'zod';
import { inTransaction } from '../../lib/db';
import { encodeProductEvent, type ProductEvent } from '../../lib/events';
import { counter, histogram } from '../../lib/metrics';
import { HttpError, type ServiceContext } from '../common/app';
import type { CommandConfig } from './config';

export const CreateProductSchema = z.object({
  id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  name: z.string().min(1).max(200),
  price: z.coerce.number().nonnegative(),
  stock: z.coerce.number().int(),
});
export const UpdateProductSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    price: z.coerce.number().nonnegative().optional(),
    stock: z.coerce.number().int().optional(),
  })
  .refine(
    (b) => b.name !== undefined || b.price !== undefined || b.stock !== undefined,
    'give at least one of name, price, stock',
  );

export interface CommandResult {
  eventId: string;
  productId: number;
  version: number;
}

interface ProductRow extends RowDataPacket {
  id: number;
  name: string;
  price: string;
  stock: number;
  version: number;
  last_event_id: string | null;
  updated_at: string;
}

/** Ids that fit a JS number and rarely collide when the caller does not choose one. */
const newProductId = () => Date.now() * 1000 + Math.floor(Math.random() * 1000);

export function commandService(
  cfg: CommandConfig,
  ctx: ServiceContext,
  pool: Pool,
  producer: Producer,
) {
  const m = {
    requests: counter(
      ctx.registry,
      'lab_command_requests_total',
      'Commands handled, by mode, operation and result',
      ['mode', 'op', 'result'],
    ),
    produced: counter(
      ctx.registry,
      'lab_command_events_produced_total',
      'Events produced to Kafka by command-service itself (direct mode), acks=all',
      ['mode'],
    ),
    produceFailures: counter(
      ctx.registry,
      'lab_command_produce_failures_total',
      'Direct mode: commits whose event could not be produced (each one is an event lost)',
      ['mode'],
    ),
    commits: counter(
      ctx.registry,
      'lab_command_commits_total',
      'Command transactions committed (each one is an event that must reach consumers)',
      ['mode'],
    ),
    outboxWrites: counter(
      ctx.registry,
      'lab_command_outbox_writes_total',
      'Outbox rows written in the command transaction (outbox mode)',
      ['mode'],
    ),
    duration: histogram(
      ctx.registry,
      'lab_command_duration_seconds',
      'Command latency, commit and produce included',
      ['mode', 'op'],
    ),
  };

  /** The product change, its command_log row and (outbox mode) its outbox row: all or nothing. */
  async function record(conn: PoolConnection, e: ProductEvent) {
    const payload = JSON.stringify(e);
    await conn.query(
      'INSERT INTO command_log (event_id, topic, product_id, event_type, version, mode, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [e.eventId, cfg.topic, e.productId, e.type, e.version, cfg.mode, payload],
    );
    if (cfg.mode === 'outbox') {
      await conn.query(
        'INSERT INTO outbox (event_id, topic, aggregate_type, aggregate_id, event_type, payload) VALUES (?, ?, ?, ?, ?, ?)',
        [e.eventId, cfg.topic, 'product', e.productId, e.type, payload],
      );
      m.outboxWrites.inc({ mode: cfg.mode });
    }
    await ctx.failpoints.hit('tx.before-commit');
  }

  /**
   * After the commit. Direct mode: the dual write — a crash or a broker error here leaves a committed row with no
   * event. The failpoint is passed in both modes at the same count, so outbox mode meets the very same crashes
   * (E-002's pattern side): its event is already in the committed outbox row, for the relay.
   */
  async function publish(e: ProductEvent) {
    m.commits.inc({ mode: cfg.mode });
    await ctx.failpoints.hit('command.after-commit-before-produce');
    if (cfg.mode !== 'direct') return;
    try {
      await producer.send({ topic: cfg.topic, acks: -1, messages: [encodeProductEvent(e)] });
      m.produced.inc({ mode: cfg.mode });
    } catch (err) {
      m.produceFailures.inc({ mode: cfg.mode });
      throw new HttpError(
        502,
        `product ${e.productId} v${e.version} committed but event ${e.eventId} was not produced (${(err as Error).message}): it is lost — this is what outbox mode prevents`,
      );
    }
  }

  async function timed<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const end = m.duration.startTimer({ mode: cfg.mode, op });
    try {
      const out = await fn();
      m.requests.inc({ mode: cfg.mode, op, result: 'ok' });
      return out;
    } catch (e) {
      m.requests.inc({
        mode: cfg.mode,
        op,
        result: e instanceof HttpError && e.status < 500 ? 'rejected' : 'error',
      });
      throw e;
    } finally {
      end();
    }
  }

  const create = (body: unknown): Promise<CommandResult> =>
    timed('create', async () => {
      const b = CreateProductSchema.parse(body);
      const e: ProductEvent = {
        eventId: randomUUID(),
        type: 'ProductCreated',
        productId: b.id ?? newProductId(),
        version: 1,
        name: b.name,
        price: b.price,
        stock: b.stock,
        occurredAt: new Date().toISOString(),
      };
      await inTransaction(pool, async (conn) => {
        try {
          await conn.query(
            'INSERT INTO product (id, name, price, stock, version, last_event_id) VALUES (?, ?, ?, ?, 1, ?)',
            [e.productId, e.name, e.price, e.stock, e.eventId],
          );
        } catch (err) {
          if ((err as { code?: string }).code === 'ER_DUP_ENTRY')
            throw new HttpError(
              409,
              `product ${e.productId} exists; use PUT /products/${e.productId} to change it`,
            );
          throw err;
        }
        await record(conn, e);
      });
      await publish(e);
      return { eventId: e.eventId, productId: e.productId, version: e.version };
    });

  const update = (id: number, body: unknown): Promise<CommandResult> =>
    timed('update', async () => {
      const b = UpdateProductSchema.parse(body);
      const e = await inTransaction(pool, async (conn) => {
        // FOR UPDATE: concurrent updates of one product get consecutive versions, never the same one twice.
        const [rows] = await conn.query<ProductRow[]>(
          'SELECT * FROM product WHERE id = ? FOR UPDATE',
          [id],
        );
        const cur = rows[0];
        if (!cur)
          throw new HttpError(404, `product ${id} not found; create it with POST /products`);
        const ev: ProductEvent = {
          eventId: randomUUID(),
          type: 'ProductUpdated',
          productId: id,
          version: cur.version + 1,
          name: b.name ?? cur.name,
          price: b.price ?? Number(cur.price),
          stock: b.stock ?? cur.stock,
          occurredAt: new Date().toISOString(),
        };
        const [res] = await conn.query<ResultSetHeader>(
          'UPDATE product SET name = ?, price = ?, stock = ?, version = ?, last_event_id = ? WHERE id = ? AND version = ?',
          [ev.name, ev.price, ev.stock, ev.version, ev.eventId, id, cur.version],
        );
        if (res.affectedRows !== 1)
          throw new HttpError(409, `product ${id} changed concurrently; retry`);
        await record(conn, ev);
        return ev;
      });
      await publish(e);
      return { eventId: e.eventId, productId: e.productId, version: e.version };
    });

  async function get(id: number) {
    const [rows] = await pool.query<ProductRow[]>('SELECT * FROM product WHERE id = ?', [id]);
    const r = rows[0];
    if (!r) throw new HttpError(404, `product ${id} not found`);
    return {
      id: Number(r.id),
      name: r.name,
      price: Number(r.price),
      stock: r.stock,
      version: r.version,
      lastEventId: r.last_event_id,
      updatedAt: r.updated_at,
    };
  }

  return { create, update, get };
}
