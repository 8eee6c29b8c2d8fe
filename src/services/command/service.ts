import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { inTransaction } from '../../lib/db';
import { encodeProductEvent, type ProductEvent } from '../../lib/events';
import type { Failpoints } from '../../lib/failpoints';
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

export interface ProductRow extends RowDataPacket {
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

/** command-service's metrics, registered in `registry`. */
export function commandMetrics(registry: Registry) {
  return {
    requests: counter(
      registry,
      'lab_command_requests_total',
      'Commands handled, by mode, operation and result',
      ['mode', 'op', 'result'],
    ),
    produced: counter(
      registry,
      'lab_command_events_produced_total',
      'Events produced to Kafka by command-service itself (direct mode), acks=all',
      ['mode'],
    ),
    produceFailures: counter(
      registry,
      'lab_command_produce_failures_total',
      'Direct mode: commits whose event could not be produced (each one is an event lost)',
      ['mode'],
    ),
    commits: counter(
      registry,
      'lab_command_commits_total',
      'Command transactions committed (each one is an event that must reach consumers)',
      ['mode'],
    ),
    outboxWrites: counter(
      registry,
      'lab_command_outbox_writes_total',
      'Outbox rows written in the command transaction (outbox mode)',
      ['mode'],
    ),
    duration: histogram(
      registry,
      'lab_command_duration_seconds',
      'Command latency, commit and produce included',
      ['mode', 'op'],
    ),
  };
}
export type CommandMetrics = ReturnType<typeof commandMetrics>;

/** What a command works with; each part can be a fake in a unit test. */
export interface CommandDeps {
  cfg: Pick<CommandConfig, 'mode' | 'topic'>;
  pool: Pool;
  producer: Pick<Producer, 'send'>;
  failpoints: Pick<Failpoints, 'hit'>;
  m: CommandMetrics;
}

/** The product change, its command_log row and (outbox mode) its outbox row: all or nothing. */
async function recordEvent(
  { cfg, failpoints, m }: CommandDeps,
  conn: PoolConnection,
  e: ProductEvent,
) {
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
  await failpoints.hit('tx.before-commit');
}

/**
 * After the commit. Direct mode: the dual write — a crash or a broker error here leaves a committed row with no
 * event. The failpoint is passed in both modes at the same count, so outbox mode meets the very same crashes
 * (E-002's pattern side): its event is already in the committed outbox row, for the relay.
 */
async function publishCommitted({ cfg, failpoints, producer, m }: CommandDeps, e: ProductEvent) {
  m.commits.inc({ mode: cfg.mode });
  await failpoints.hit('command.after-commit-before-produce');
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

/** Runs one command, timing it and counting its result: ok, rejected (a 4xx) or error. */
export async function timedCommand<T>(
  m: Pick<CommandMetrics, 'duration' | 'requests'>,
  mode: string,
  op: string,
  fn: () => Promise<T>,
): Promise<T> {
  const end = m.duration.startTimer({ mode, op });
  try {
    const out = await fn();
    m.requests.inc({ mode, op, result: 'ok' });
    return out;
  } catch (e) {
    m.requests.inc({
      mode,
      op,
      result: e instanceof HttpError && e.status < 500 ? 'rejected' : 'error',
    });
    throw e;
  } finally {
    end();
  }
}

/** ProductCreated for a create request's body; the id is the caller's or a new one. */
export function productCreatedEvent(
  b: z.infer<typeof CreateProductSchema>,
  newId: () => number = newProductId,
): ProductEvent {
  return {
    eventId: randomUUID(),
    type: 'ProductCreated',
    productId: b.id ?? newId(),
    version: 1,
    name: b.name,
    price: b.price,
    stock: b.stock,
    occurredAt: new Date().toISOString(),
  };
}

/** ProductUpdated: the current row with the request's fields over it, one version up. */
export function productUpdatedEvent(
  cur: Pick<ProductRow, 'name' | 'price' | 'stock' | 'version'>,
  id: number,
  b: z.infer<typeof UpdateProductSchema>,
): ProductEvent {
  return {
    eventId: randomUUID(),
    type: 'ProductUpdated',
    productId: id,
    version: cur.version + 1,
    name: b.name ?? cur.name,
    price: b.price ?? Number(cur.price),
    stock: b.stock ?? cur.stock,
    occurredAt: new Date().toISOString(),
  };
}

/** POST /products: inserts the product with its event (409 if the id exists), then publishes. */
async function createProduct(deps: CommandDeps, body: unknown): Promise<CommandResult> {
  const e = productCreatedEvent(CreateProductSchema.parse(body));
  await inTransaction(deps.pool, async (conn) => {
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
    await recordEvent(deps, conn, e);
  });
  await publishCommitted(deps, e);
  return { eventId: e.eventId, productId: e.productId, version: e.version };
}

/** PUT /products/:id: the next version of the product with its event (404, or 409 on a race), then publishes. */
async function updateProduct(deps: CommandDeps, id: number, body: unknown): Promise<CommandResult> {
  const b = UpdateProductSchema.parse(body);
  const e = await inTransaction(deps.pool, async (conn) => {
    // FOR UPDATE: concurrent updates of one product get consecutive versions, never the same one twice.
    const [rows] = await conn.query<ProductRow[]>('SELECT * FROM product WHERE id = ? FOR UPDATE', [
      id,
    ]);
    const cur = rows[0];
    if (!cur) throw new HttpError(404, `product ${id} not found; create it with POST /products`);
    const ev = productUpdatedEvent(cur, id, b);
    const [res] = await conn.query<ResultSetHeader>(
      'UPDATE product SET name = ?, price = ?, stock = ?, version = ?, last_event_id = ? WHERE id = ? AND version = ?',
      [ev.name, ev.price, ev.stock, ev.version, ev.eventId, id, cur.version],
    );
    if (res.affectedRows !== 1)
      throw new HttpError(409, `product ${id} changed concurrently; retry`);
    await recordEvent(deps, conn, ev);
    return ev;
  });
  await publishCommitted(deps, e);
  return { eventId: e.eventId, productId: e.productId, version: e.version };
}

/** GET /products/:id: the write side's own row (404 if none). */
async function getProduct(pool: Pool, id: number) {
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

export function commandService(
  cfg: CommandConfig,
  ctx: ServiceContext,
  pool: Pool,
  producer: Producer,
) {
  const m = commandMetrics(ctx.registry);
  const deps: CommandDeps = { cfg, pool, producer, failpoints: ctx.failpoints, m };
  const create = (body: unknown): Promise<CommandResult> =>
    timedCommand(m, cfg.mode, 'create', () => createProduct(deps, body));
  const update = (id: number, body: unknown): Promise<CommandResult> =>
    timedCommand(m, cfg.mode, 'update', () => updateProduct(deps, id, body));
  const get = (id: number) => getProduct(pool, id);
  return { create, update, get };
}
