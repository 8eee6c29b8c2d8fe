import type { Pool, PoolConnection } from 'mysql2/promise';
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

/**
 * Writes the side effects and the read model of `events`, one multi-row statement each. The read model only moves
 * forward: an older version is ignored. MariaDB applies a multi-row upsert row by row, so two versions of one
 * product in the same statement end at the higher one whatever their order.
 */
export async function sideEffectsAndView(
  conn: PoolConnection,
  cfg: ConsumerConfig,
  events: ProductEvent[],
) {
  await conn.query('INSERT INTO side_effect_ledger (event_id, consumer_group, effect) VALUES ?', [
    events.map((e) => [e.eventId, cfg.group, SIDE_EFFECT]),
  ]);
  // `version` is assigned last: MariaDB evaluates SET left to right, so earlier IFs still see the old version.
  await conn.query(
    `INSERT INTO product_view (product_id, name, price, stock, version) VALUES ?
     ON DUPLICATE KEY UPDATE name = IF(VALUES(version) > version, VALUES(name), name), price = IF(VALUES(version) > version, VALUES(price), price),
       stock = IF(VALUES(version) > version, VALUES(stock), stock), version = GREATEST(version, VALUES(version))`,
    [events.map((e) => [e.productId, e.name, e.price, e.stock, e.version])],
  );
}

/** One attempt at applying an event, in one DB transaction. */
export async function applyEvent(
  pool: Pool,
  cfg: ConsumerConfig,
  e: ProductEvent,
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
    await sideEffectsAndView(conn, cfg, [e]);
    return 'applied';
  });
}

/** Lab errors say whether retrying helps; anything else (DB/Kafka hiccup, deadlock) is assumed transient. */
export const isRetriable = (e: unknown) => (e instanceof LabError ? e.retriable : true);
