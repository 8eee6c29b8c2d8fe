import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { LabConfig } from '../../../lib/config';
import { dlqTopic, messageEventId } from '../../../lib/events';
import { readTopic, type TopicRecord } from '../../../lib/topics';
import { mustRead, type AuditIds, type AuditResult, type WorkloadContext } from '../api';

/** The command audit's figures: ground truth read from the DB, the topic and the ledger. */
export const COMMAND_AUDIT_FIGURES = [
  'committed',
  'published',
  'publishedRecords',
  'topicDuplicates',
  'lostBeforeTopic',
  'consumed',
  'applied',
  'notApplied',
  'duplicateEffects',
  'ledgerRows',
  'dlqRecords',
  'unseen',
  'staleReads',
  'readModelBehind',
  'reordered',
  'viewBackwards',
] as const;

export type CommandAuditFigures = Record<(typeof COMMAND_AUDIT_FIGURES)[number], number>;

/** One record's place in per-key order: its event and the product version it carries. */
export interface KeyedRecord {
  eventId: string;
  productId: number;
  version: number;
}

/**
 * Per-key order of a topic read in offset order (one product's records share a partition): an event whose first
 * record comes after a record of a higher version of its product is `reordered` — a consumer applying records as
 * they come moves that product backwards. Redelivered copies are left to topicDuplicates.
 */
export function reorderedEvents(records: KeyedRecord[]): NonNullable<AuditIds['reordered']> {
  const newest = new Map<number, number>();
  const seen = new Set<string>();
  const out: NonNullable<AuditIds['reordered']> = [];
  for (const r of records) {
    if (seen.has(r.eventId)) continue;
    seen.add(r.eventId);
    const after = newest.get(r.productId);
    if (after !== undefined && r.version < after)
      out.push({ eventId: r.eventId, productId: r.productId, version: r.version, after });
    else newest.set(r.productId, r.version);
  }
  return out;
}

export interface AuditInput {
  topic: string;
  consumerGroup: string;
  /** results of reading each product back through query-service after quiescence, if the experiment asks */
  readBack?: { productId: number; version: number }[];
}

/**
 * The independent check of a run: it trusts no counter a service reports about itself. Ground truth is the
 * database (command_log: every command that committed), the topic read back from the beginning by a fresh
 * consumer, and the side-effect ledger (one row per effect performed, no unique key).
 */
export async function audit(c: LabConfig, pool: Pool, input: AuditInput): Promise<AuditResult> {
  const [committedRows] = await pool.query<RowDataPacket[]>(
    'SELECT event_id, product_id, version FROM command_log WHERE topic = ?',
    [input.topic],
  );
  const topic = await readTopicOrder(c, input.topic, committedRows);
  const dlq = await mustRead(
    `the DLQ ${dlqTopic(input.topic)}`,
    readTopic(c, dlqTopic(input.topic)),
  );
  const effects = await readEffects(pool, input);
  const stale = await staleReads(pool, input, committedRows);
  return judge(committedRows, topic, dlq, effects, stale);
}

type Rows = RowDataPacket[];
type TopicOrder = Awaited<ReturnType<typeof readTopicOrder>>;
type Effects = Awaited<ReturnType<typeof readEffects>>;
type StaleRead = { productId: number; served: number; committed: number };

/** The whole topic read back: its records, each event's number of records, and the events out of per-key order. */
async function readTopicOrder(c: LabConfig, topic: string, committedRows: Rows) {
  const records = await mustRead(`the topic ${topic}`, readTopic(c, topic));
  const inTopic = new Map<string, number>();
  // Versions from command_log, by event id: they hold for any encoding (JSON or Avro) of the record.
  const logged = new Map(
    committedRows.map((r) => [
      String(r.event_id),
      { productId: Number(r.product_id), version: Number(r.version) },
    ]),
  );
  const keyed: KeyedRecord[] = [];
  for (const r of records) {
    const id = messageEventId({ headers: r.headers as never, value: r.value });
    if (id) inTopic.set(id, (inTopic.get(id) ?? 0) + 1);
    const event = id ? logged.get(id) : undefined;
    if (id && event) keyed.push({ eventId: id, ...event });
  }
  return { records, inTopic, reordered: reorderedEvents(keyed) };
}

/** What the consumers did: the ledger's effects per event, events processed, the read model's regressions and lag. */
async function readEffects(pool: Pool, input: AuditInput) {
  const [ledgerRows] = await pool.query<RowDataPacket[]>(
    'SELECT event_id, COUNT(*) AS n FROM side_effect_ledger WHERE consumer_group = ? GROUP BY event_id',
    [input.consumerGroup],
  );
  const applied = new Map(ledgerRows.map((r) => [String(r.event_id), Number(r.n)]));
  const [[processed]] = await pool.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM processed_event WHERE consumer_group = ?',
    [input.consumerGroup],
  );
  const [regressionRows] = await pool.query<RowDataPacket[]>(
    'SELECT product_id, from_version, to_version FROM product_view_regression WHERE product_id IN (SELECT product_id FROM command_log WHERE topic = ?) ORDER BY id',
    [input.topic],
  );
  const viewBackwards = regressionRows.map((r) => ({
    productId: Number(r.product_id),
    from: Number(r.from_version),
    to: Number(r.to_version),
  }));
  const [behindRows] = await pool.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM product p LEFT JOIN product_view v ON v.product_id = p.id WHERE (v.version IS NULL OR v.version < p.version) AND p.id IN (SELECT product_id FROM command_log WHERE topic = ?)',
    [input.topic],
  );
  return {
    applied,
    processed: Number(processed.n),
    viewBackwards,
    behind: Number(behindRows[0].n),
  };
}

/** The read-back's answers older than the database's version of the product. */
async function staleReads(
  pool: Pool,
  input: AuditInput,
  committedRows: Rows,
): Promise<StaleRead[]> {
  const dbVersions = new Map(committedRows.map((r) => [Number(r.product_id), 0]));
  const [productRows] = await pool.query<RowDataPacket[]>(
    'SELECT id, version FROM product WHERE id IN (SELECT product_id FROM command_log WHERE topic = ?)',
    [input.topic],
  );
  for (const r of productRows) dbVersions.set(Number(r.id), Number(r.version));
  return (input.readBack ?? [])
    .filter((r) => r.version < (dbVersions.get(r.productId) ?? 0))
    .map((r) => ({
      productId: r.productId,
      served: r.version,
      committed: dbVersions.get(r.productId) ?? 0,
    }));
}

/** The figures and the offending ids, from what was read. */
function judge(
  committedRows: Rows,
  { records, inTopic, reordered }: TopicOrder,
  dlq: TopicRecord[],
  { applied, processed, viewBackwards, behind }: Effects,
  stale: StaleRead[],
): AuditResult {
  const committed = new Set(committedRows.map((r) => String(r.event_id)));
  const inDlq = new Set(
    dlq
      .map((r) => messageEventId({ headers: r.headers as never, value: r.value }))
      .filter((x): x is string => !!x),
  );
  const lostBeforeTopic = [...committed].filter((id) => !inTopic.has(id));
  const notApplied = [...inTopic.keys()].filter(
    (id) => committed.has(id) && !applied.has(id) && !inDlq.has(id),
  );
  const dupEffects = [...applied]
    .filter(([, n]) => n > 1)
    .map(([eventId, n]) => ({ eventId, applied: n }));
  const topicDups = [...inTopic]
    .filter(([, n]) => n > 1)
    .map(([eventId, n]) => ({ eventId, records: n }));

  const figures: CommandAuditFigures = {
    committed: committed.size,
    published: [...committed].filter((id) => inTopic.has(id)).length,
    publishedRecords: records.length,
    topicDuplicates: records.length - inTopic.size,
    lostBeforeTopic: lostBeforeTopic.length,
    consumed: Math.max(processed, applied.size),
    applied: [...applied.keys()].filter((id) => committed.has(id)).length,
    notApplied: notApplied.length,
    duplicateEffects: dupEffects.reduce((a, d) => a + d.applied - 1, 0),
    ledgerRows: [...applied.values()].reduce((a, n) => a + n, 0),
    dlqRecords: dlq.length,
    unseen: [...applied.keys()].filter((id) => !committed.has(id)).length,
    staleReads: stale.length,
    readModelBehind: behind,
    reordered: reordered.length,
    viewBackwards: viewBackwards.length,
  };
  const cap = <T>(xs: T[]) => xs.slice(0, 50);
  return {
    figures,
    ids: {
      lostBeforeTopic: cap(lostBeforeTopic),
      notApplied: cap(notApplied),
      duplicateEffects: cap(dupEffects),
      topicDuplicates: cap(topicDups),
      staleReads: cap(stale),
      reordered: cap(reordered),
      viewBackwards: cap(viewBackwards),
    },
  };
}

/** The command audit of a run, as a workload's `audit` reads it once every fault is rolled back. */
export async function auditCommands(
  ctx: WorkloadContext<unknown>,
  what: string,
  readBack?: AuditInput['readBack'],
): Promise<Pick<AuditResult, 'figures' | 'ids'>> {
  ctx.note(`audit: ${what}`);
  const result = await audit(ctx.c, ctx.pool, {
    topic: ctx.topic,
    consumerGroup: ctx.consumerGroup,
    readBack,
  });
  return { figures: result.figures, ids: result.ids };
}
