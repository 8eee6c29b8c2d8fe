import type { Pool, RowDataPacket } from 'mysql2/promise';
import { inTransaction } from '../../lib/db';
import type { ProductEvent } from '../../lib/events';
import type { ApplyResult, ViewStats } from './apply';
import { sideEffectsAndView } from './apply';
import type { ConsumerConfig } from './config';

/**
 * One attempt at applying a batch of events in ONE DB transaction (idempotent mode): the whole batch is checked
 * against processed_event in one SELECT, and only the events neither processed before nor earlier in this batch
 * get a processed_event row, a side effect and a read-model write — three multi-row statements. Results are in
 * the order of `events`. The primary key of processed_event stays the guard: should another member of the group
 * (a zombie after a rebalance) insert one of these ids meanwhile, the INSERT fails with ER_DUP_ENTRY, the
 * transaction rolls back, and the caller redoes the batch message by message, which then sees the duplicate.
 */
export async function applyBatch(
  pool: Pool,
  cfg: ConsumerConfig,
  events: ProductEvent[],
  stats?: ViewStats,
): Promise<ApplyResult[]> {
  if (!events.length) return [];
  return inTransaction(pool, async (conn) => {
    const [rows] = await conn.query<RowDataPacket[]>(
      'SELECT event_id FROM processed_event WHERE consumer_group = ? AND event_id IN (?)',
      [cfg.group, [...new Set(events.map((e) => e.eventId))]],
    );
    const seen = new Set(rows.map((r) => String(r.event_id)));
    const results = events.map((e): ApplyResult =>
      seen.has(e.eventId) ? 'duplicate' : (seen.add(e.eventId), 'applied'),
    );
    const fresh = events.filter((_, i) => results[i] === 'applied');
    if (fresh.length) {
      await conn.query('INSERT INTO processed_event (consumer_group, event_id) VALUES ?', [
        fresh.map((e) => [cfg.group, e.eventId]),
      ]);
      await sideEffectsAndView(conn, cfg, fresh, stats);
    }
    return results;
  });
}
