import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { inTransaction } from '../../lib/db';
import { LabError } from '../../lib/errors';
import type { ProductEvent } from '../../lib/events';
import type { ConsumerConfig } from './config';

export const SIDE_EFFECT = 'notification-sent';

/**
 * The simulated bug: never succeeds however often it is retried. It is marked retriable on purpose: a consumer
 * cannot tell a bug from a transient failure, so it retries with backoff until its attempts run out — that is
 * what keeps a poison message from blocking the partition for ever, and what the DLQ is for.
 */
export class PoisonMessageError extends LabError {
  constructor(e: ProductEvent) {
    super(
      `event ${e.eventId} (product ${e.productId}) is listed in CONSUMER_POISON, a simulated bug; restart consumer-service without it, then replay the DLQ`,
      { retriable: true },
    );
  }
}

export type ApplyResult = 'applied' | 'duplicate';

/** Throws for an event CONSUMER_POISON lists: the simulated bug, before any DB work. */
export function assertNotPoison(cfg: ConsumerConfig, e: ProductEvent) {
  if (cfg.poison.has(String(e.productId)) || cfg.poison.has(e.eventId))
    throw new PoisonMessageError(e);
}

/** What one apply did to the read model beyond writing it: events older than the row they met (counted once committed). */
export interface ViewStats {
  olderVersions: number;
}

const VIEW_UPSERT: Record<ConsumerConfig['viewOrder'], string> = {
  // `version` is assigned last: MariaDB evaluates SET left to right, so earlier IFs still see the old version.
  versioned: `INSERT INTO product_view (product_id, name, price, stock, version) VALUES ?
     ON DUPLICATE KEY UPDATE name = IF(VALUES(version) > version, VALUES(name), name), price = IF(VALUES(version) > version, VALUES(price), price),
       stock = IF(VALUES(version) > version, VALUES(stock), stock), version = GREATEST(version, VALUES(version))`,
  'last-write': `INSERT INTO product_view (product_id, name, price, stock, version) VALUES ?
     ON DUPLICATE KEY UPDATE name = VALUES(name), price = VALUES(price), stock = VALUES(stock), version = VALUES(version)`,
};

/**
 * Writes the side effects and the read model of `events`, one multi-row statement each. CONSUMER_VIEW_ORDER=versioned:
 * the read model only moves forward, an older version is ignored (MariaDB applies a multi-row upsert row by row, so
 * two versions of one product in the same statement end at the higher one whatever their order); last-write: the
 * last event applied wins. Either way the events older than the row they meet are counted in `stats`.
 */
export async function sideEffectsAndView(
  conn: PoolConnection,
  cfg: ConsumerConfig,
  events: ProductEvent[],
  stats?: ViewStats,
) {
  await conn.query('INSERT INTO side_effect_ledger (event_id, consumer_group, effect) VALUES ?', [
    events.map((e) => [e.eventId, cfg.group, SIDE_EFFECT]),
  ]);
  if (stats) stats.olderVersions = await olderVersions(conn, cfg, events);
  await conn.query(VIEW_UPSERT[cfg.viewOrder], [
    events.map((e) => [e.productId, e.name, e.price, e.stock, e.version]),
  ]);
}

/** Events whose version is below the row's they are applied to, in order (the row as the previous ones leave it). */
async function olderVersions(conn: PoolConnection, cfg: ConsumerConfig, events: ProductEvent[]) {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT product_id, version FROM product_view WHERE product_id IN (?)',
    [[...new Set(events.map((e) => e.productId))]],
  );
  const current = new Map(rows.map((r) => [Number(r.product_id), Number(r.version)]));
  let older = 0;
  for (const e of events) {
    const row = current.get(Number(e.productId));
    if (row !== undefined && e.version < row) older++;
    current.set(
      Number(e.productId),
      cfg.viewOrder === 'last-write' || row === undefined ? e.version : Math.max(row, e.version),
    );
  }
  return older;
}

/** One attempt at applying an event, in one DB transaction. */
export async function applyEvent(
  pool: Pool,
  cfg: ConsumerConfig,
  e: ProductEvent,
  stats?: ViewStats,
): Promise<ApplyResult> {
  assertNotPoison(cfg, e);
  return inTransaction(pool, async (conn) => {
    if (cfg.mode === 'idempotent') {
      try {
        await conn.query('INSERT INTO processed_event (consumer_group, event_id) VALUES (?, ?)', [
          cfg.group,
          e.eventId,
        ]);
      } catch (err) {
        if ((err as { code?: string }).code === 'ER_DUP_ENTRY') return 'duplicate';
        throw err;
      }
    }
    await sideEffectsAndView(conn, cfg, [e], stats);
    return 'applied';
  });
}

/** Lab errors say whether retrying helps; anything else (DB/Kafka hiccup, deadlock) is assumed transient. */
export const isRetriable = (e: unknown) => (e instanceof LabError ? e.retriable : true);
