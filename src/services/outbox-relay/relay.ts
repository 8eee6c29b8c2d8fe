import type { Producer } from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import { EVENT_ID_HEADER } from '../../lib/events';
import type { Failpoints } from '../../lib/failpoints';
import { counter, gauge, histogram } from '../../lib/metrics';
import { sleep } from '../../lib/wait';
import type { ServiceContext } from '../common/app';
import type { RelayConfig } from './config';
import { outboxStore, type Claim, type OnOverlap, type OutboxStore } from './store';

/** The record value for an outbox payload (the JSON text command-service wrote): as is, or re-encoded (Avro). */
export type EncodeValue = (payload: string) => Promise<string | Buffer>;
const asIs: EncodeValue = async (payload) => payload;

/** The relay's metrics, registered in `registry`. */
export function relayMetrics(registry: Registry) {
  return {
    published: counter(
      registry,
      'lab_outbox_relay_published_total',
      'Outbox rows published to Kafka (a re-published row counts again), by value schema',
      ['schema'],
    ),
    batches: counter(
      registry,
      'lab_outbox_relay_batches_total',
      'Batches claimed and published, by result',
      ['result'],
    ),
    backlog: gauge(
      registry,
      'lab_outbox_backlog',
      'Unpublished outbox rows of this relay (topic and shard)',
    ),
    oldestAge: gauge(
      registry,
      'lab_outbox_oldest_unpublished_age_seconds',
      'Age of the oldest unpublished outbox row of this relay, 0 when none',
    ),
    claimOverlaps: counter(
      registry,
      'lab_outbox_relay_claim_overlaps_total',
      'Rows claimed while an earlier unpublished row of the same aggregate was held by another relay (SKIP LOCKED passed it): their order on the topic is left to timing',
    ),
    batchDuration: histogram(
      registry,
      'lab_outbox_relay_batch_duration_seconds',
      'Publish + mark + commit of one claimed batch (empty polls are not batches)',
    ),
  };
}
export type RelayMetrics = ReturnType<typeof relayMetrics>;

/** Counts and logs rows claimed past an earlier row of their aggregate held by another relay. */
export function overlapReporter(
  m: Pick<RelayMetrics, 'claimOverlaps'>,
  log: pino.Logger,
): OnOverlap {
  return (rows, aggregates) => {
    m.claimOverlaps.inc(rows.length);
    log.warn(
      { aggregates, rows: rows.map((r) => r.id) },
      'claimed rows whose aggregate has an earlier row held by another relay: they may reach Kafka first',
    );
  };
}

/** What the relay's loop works with; each part can be a fake in a unit test. */
export interface RelayDeps {
  cfg: Pick<RelayConfig, 'topic' | 'batchSize' | 'pipeline' | 'pollMs'>;
  store: Pick<OutboxStore, 'probe' | 'claim' | 'mark' | 'release' | 'backlog'>;
  producer: Pick<Producer, 'send'>;
  failpoints: Pick<Failpoints, 'hit'>;
  log: Pick<pino.Logger, 'warn'>;
  m: RelayMetrics;
  /** the `schema` label of lab_outbox_relay_published_total */
  schemaLabel: { schema: string };
  encodeValue: EncodeValue;
}

/** Claim → send → mark, batch after batch, until stop(). */
export class RelayLoop {
  private running = true;
  private done: Promise<void> | undefined;
  private refreshing = false;
  lastBatchAt: string | null = null;
  lastError: string | null = null;

  constructor(private readonly d: RelayDeps) {}

  start(): Promise<void> {
    return (this.done = this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Gives a claim back unpublished (store.release); a failure there is logged, the rows stay unpublished. */
  async release(b: Claim, attempted: boolean) {
    await this.d.store
      .release(b, attempted)
      .catch((e: Error) =>
        this.d.log.warn(
          { rows: b.rows.map((r) => r.id), err: e.message },
          attempted
            ? "a failed batch's publish attempt could not be counted; its rows stay unpublished"
            : 'a claimed batch could not be rolled back cleanly; its rows stay unpublished',
        ),
      );
  }

  /** Sends a claimed batch to Kafka (acks=all). Its rows stay locked and unmarked until mark(). */
  async send({ rows }: Claim): Promise<void> {
    const { cfg, failpoints, producer, encodeValue } = this.d;
    // Keyed by the batch's aggregates, so a run can hold the one batch that carries a given product's event.
    await failpoints.hit(
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
    await failpoints.hit('relay.after-publish-before-mark');
  }

  /** Marks a sent batch published and commits: from then on it is not published again. On failure it is released. */
  async mark(b: Claim, t0: bigint): Promise<void> {
    const { m } = this.d;
    try {
      await this.d.store.mark(b);
    } catch (e) {
      m.batches.inc({ result: 'error' });
      await this.release(b, true);
      throw e;
    }
    m.batchDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    m.published.inc(this.d.schemaLabel, b.rows.length);
    m.batches.inc({ result: 'ok' });
    this.lastBatchAt = new Date().toISOString();
  }

  /**
   * The backlog gauges, at most once a second, off the loop: awaited in it, this COUNT over the unpublished rows
   * delayed whatever batch came next by its own duration (an e2e tail).
   */
  refreshBacklog() {
    if (this.refreshing) return;
    this.refreshing = true;
    const { m } = this.d;
    this.d.store
      .backlog()
      .then(({ n, age }) => {
        m.backlog.set(n);
        m.oldestAge.set(age);
      })
      .catch((e: Error) => this.d.log.warn({ err: e.message }, 'backlog gauges not refreshed'))
      .finally(() => (this.refreshing = false));
  }

  /**
   * Claim → send → mark, batch after batch. With RELAY_PIPELINE, a full batch means more rows are waiting, so
   * while it is in flight to Kafka the next batch is claimed (SKIP LOCKED: the rows after it) and the previous one
   * is marked and committed: the DB's two round trips and its fsync overlap the produce instead of adding to it.
   * Sends stay one at a time, so records reach Kafka in outbox order; a batch is marked only after the one before
   * it, and any failure releases every claim still open — those rows are published again, never skipped.
   */
  private async loop() {
    const { cfg, store, m } = this.d;
    let lastRefresh = 0;
    let cur: Claim | null = null;
    let marking: Promise<void> = Promise.resolve(); // the previous batch's mark + commit (pipeline: still running)
    let full = false; // the last batch was full: more rows are likely waiting, claim without probing
    while (this.running) {
      let next: Promise<Claim | null> = Promise.resolve(null);
      try {
        cur ??= full || (await store.probe()) ? await store.claim() : null;
        full = cur?.rows.length === cfg.batchSize;
        if (cur) {
          if (cfg.pipeline && full) next = store.claim(cur.rows.map((r) => r.id));
          next.catch(() => {}); // awaited below or released on failure; a rejection meanwhile is not unhandled
          const t0 = process.hrtime.bigint();
          const [sent, marked] = await Promise.allSettled([this.send(cur), marking]);
          if (sent.status === 'rejected' || marked.status === 'rejected') {
            // Sent or not, cur is released: the batch before it is not marked, so both go out again in order.
            if (sent.status === 'rejected') m.batches.inc({ result: 'error' }); // a failed mark counted itself
            const b: Claim = cur;
            cur = null;
            await this.release(b, true);
            throw sent.status === 'rejected'
              ? sent.reason
              : (marked as PromiseRejectedResult).reason;
          }
          const b: Claim = cur;
          cur = null;
          marking = this.mark(b, t0);
          marking.catch(() => {}); // awaited with the next send, or below when no batch follows at once
          if (!cfg.pipeline) await marking;
          cur = await next;
        }
        if (!full) await marking; // nothing in flight while idle: a failed mark surfaces now, not at the next batch
        this.lastError = null;
        if (Date.now() - lastRefresh > 1000) {
          lastRefresh = Date.now();
          this.refreshBacklog();
        }
        if (!full) await sleep(cfg.pollMs); // a full batch means more may be waiting: go again at once
      } catch (e) {
        // Claims never sent go back as they were; a mark still running finishes (or releases its batch) first.
        await this.releaseOpen(cur, next, marking);
        [cur, marking, full] = [null, Promise.resolve(), false];
        this.lastError = (e as Error).message;
        this.d.log.warn(
          { err: this.lastError },
          'relay batch failed; rows stay unpublished and will be retried',
        );
        await sleep(Math.max(cfg.pollMs, 500));
      }
    }
    await marking.catch(() => {});
    if (cur) await this.release(cur, false);
  }

  /** After a failure: claims never sent go back as they were; a mark still running finishes (or releases) first. */
  private async releaseOpen(
    cur: Claim | null,
    next: Promise<Claim | null>,
    marking: Promise<void>,
  ) {
    if (cur) await this.release(cur, false);
    const claimed = await next.catch(() => null);
    if (claimed && claimed !== cur) await this.release(claimed, false);
    await marking.catch(() => {});
  }
}

/**
 * Claims unpublished outbox rows in id order (FOR UPDATE SKIP LOCKED, held for the whole batch), publishes them,
 * then marks them published in the same transaction. At-least-once: a death between publish and commit leaves the
 * rows unpublished, so the next relay publishes them again — consumers dedup on eventId.
 */
export function outboxRelay(
  cfg: RelayConfig,
  ctx: ServiceContext,
  pool: Pool,
  producer: Producer,
  encodeValue: EncodeValue = asIs,
) {
  // `schema`: json, or the Avro schema the records were written with — so a verdict can count what a deploy shipped.
  const schemaLabel = { schema: cfg.encoding === 'avro' ? cfg.schema : 'json' };
  const m = relayMetrics(ctx.registry);
  const { index, count } = cfg.shard;
  const store = outboxStore(pool, cfg, overlapReporter(m, ctx.log));
  const { failpoints, log } = ctx;
  const relay = new RelayLoop({
    cfg,
    store,
    producer,
    failpoints,
    log,
    m,
    schemaLabel,
    encodeValue,
  });
  return {
    start: () => relay.start(),
    stop: () => relay.stop(),
    health: async () => ({
      topic: cfg.topic,
      shard: `${index}/${count}`,
      batchSize: cfg.batchSize,
      pipeline: cfg.pipeline,
      encoding: cfg.encoding,
      schema: schemaLabel.schema,
      lastBatchAt: relay.lastBatchAt,
      lastError: relay.lastError,
    }),
  };
}
