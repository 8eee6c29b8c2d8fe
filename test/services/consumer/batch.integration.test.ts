import { expect } from 'chai';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { LabConfig } from '../../../src/lib/config';
import { dlqTopic } from '../../../src/lib/events';
import { readTopic } from '../../../src/lib/topics';
import { ensureLab } from '../../support/lab';
import {
  freshGroup,
  freshTopic,
  ledgerCount,
  metric,
  produceEvents,
  productEvent,
  resetTables,
  startTestService,
  stopTestServices,
  testPool,
  uniqueId,
  waitCaughtUp,
  waitTestServiceExit,
} from '../../support/services';

/** The idempotent consumer applies a fetched batch in one transaction; these are the cases that could go wrong. */
describe('consumer-service in idempotent mode, a batch per transaction', function () {
  this.timeout(180_000);
  let c: LabConfig;
  let pool: Pool;

  before(async () => {
    c = await ensureLab();
    pool = testPool(c);
    await resetTables(c, pool);
  });
  // A failed test must not leave its instance running for the next one (same name, same port).
  afterEach(async () => {
    if (c) await stopTestServices(c);
  });
  after(async () => {
    if (c) await stopTestServices(c);
    await pool?.end();
  });

  const ledger = (events: { eventId: string }[], group: string) =>
    Promise.all(events.map((e) => ledgerCount(pool, e.eventId, group)));
  const idempotent = (topic: string, group: string, env: Record<string, string> = {}) =>
    startTestService(c, 'consumer-service', {
      modes: { CONSUMER_MODE: 'idempotent' },
      env: { LAB_TOPIC: topic, LAB_CONSUMER_GROUP: group, ...env },
    });

  it('applies once an event the batch holds twice and skips events processed before the batch, in one transaction', async () => {
    const topic = await freshTopic(c, 'batch-dedup');
    const group = freshGroup('batch-dedup');
    const id = uniqueId();
    const [done1, done2, fresh1, fresh2, fresh3] = [1, 2, 3, 4, 5].map((v) => productEvent(id, v));
    // done1/done2 were processed by this group before (a previous incarnation), without their offsets committed.
    await pool.query('INSERT INTO processed_event (consumer_group, event_id) VALUES ?', [
      [done1, done2].map((e) => [group, e.eventId]),
    ]);
    await produceEvents(c, topic, [done1, fresh1, done2, fresh2, fresh1, fresh3, fresh2], 0);
    const svc = await idempotent(topic, group);
    await waitCaughtUp(c, group, topic);
    expect(
      await ledger([done1, done2, fresh1, fresh2, fresh3], group),
      'ledger rows: done1, done2, fresh1, fresh2, fresh3',
    ).to.deep.equal([0, 0, 1, 1, 1]);
    expect(
      await metric(svc.url, 'lab_consumer_duplicates_skipped_total'),
      'done1, done2 and the second fresh1, fresh2',
    ).to.equal(4);
    expect(await metric(svc.url, 'lab_consumer_side_effects_total')).to.equal(3);
    expect(
      await metric(svc.url, 'lab_consumer_batch_size_count'),
      'transactions for 7 messages',
    ).to.equal(1);
    const [view] = await pool.query<RowDataPacket[]>(
      'SELECT version, stock FROM product_view WHERE product_id = ?',
      [id],
    );
    expect(view[0], 'the read model at the newest version in the batch').to.deep.include({
      version: 5,
      stock: 5,
    });
  });

  it('dead-letters a poison event and a value the DB rejects inside a batch, and applies the rest of it once, in order', async () => {
    const topic = await freshTopic(c, 'batch-poison');
    const group = freshGroup('batch-poison');
    const id = uniqueId();
    const poisonId = uniqueId();
    const [a, b, d] = [1, 2, 3].map((v) => productEvent(id, v));
    const poison = productEvent(poisonId, 1);
    // A name the column cannot hold: MariaDB (strict mode) rejects the whole batch's statement, then this one alone.
    const tooLong = { ...productEvent(uniqueId(), 1), name: 'x'.repeat(300) };
    await produceEvents(c, topic, [a, poison, b, tooLong, d], 0);
    const svc = await idempotent(topic, group, {
      CONSUMER_POISON: String(poisonId),
      CONSUMER_MAX_ATTEMPTS: '3',
      CONSUMER_RETRY_BACKOFF_MS: '10',
    });
    await waitCaughtUp(c, group, topic);
    expect(
      await ledger([a, b, d, poison, tooLong], group),
      'ledger rows: a, b, d, poison, tooLong',
    ).to.deep.equal([1, 1, 1, 0, 0]);
    const dlq = await readTopic(c, dlqTopic(topic));
    // Which of the two lands in the DLQ first is not fixed: the DB-rejected value is dead-lettered by the per-message
    // redo, which can overtake the poison event's retries. Each record names its original offset; replay uses those.
    expect(
      dlq
        .map((r) => [r.headers['dedup-key'], r.headers['original-offset'], r.headers.attempts])
        .sort((x, y) => Number(x[1]) - Number(y[1])),
      'DLQ records, by original offset',
    ).to.deep.equal([
      [poison.eventId, '1', '3'],
      [tooLong.eventId, '3', '3'],
    ]);
    expect(await metric(svc.url, 'lab_consumer_retries_total'), '2 retries each').to.equal(4);
    expect(
      await metric(svc.url, 'lab_consumer_batch_fallbacks_total'),
      'the DB rejected the batch once',
    ).to.equal(1);
    const [ledgerRows] = await pool.query<RowDataPacket[]>(
      'SELECT event_id FROM side_effect_ledger WHERE consumer_group = ? ORDER BY id',
      [group],
    );
    expect(
      ledgerRows.map((r) => r.event_id),
      'side effects in offset order',
    ).to.deep.equal([a, b, d].map((e) => e.eventId));
    const [view] = await pool.query<RowDataPacket[]>(
      'SELECT version FROM product_view WHERE product_id = ?',
      [id],
    );
    expect(view[0].version).to.equal(3);
  });

  it('after a crash mid-batch (transaction committed, offsets not), applies every event of the batch exactly once', async () => {
    const topic = await freshTopic(c, 'batch-crash');
    const group = freshGroup('batch-crash');
    const events = Array.from({ length: 40 }, (_, i) => productEvent(uniqueId(), 1 + (i % 3)));
    await produceEvents(c, topic, events, 0);
    // The 25th applied event: its batch (all 40, one fetch) is committed in the DB when the failpoint passes.
    await idempotent(topic, group, {
      LAB_FAILPOINTS: 'consumer.after-side-effect-before-commit=crash@25',
    });
    await waitTestServiceExit(c, 'consumer-service');
    const [[{ n: before }]] = await pool.query<RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM side_effect_ledger WHERE consumer_group = ?',
      [group],
    );
    expect(Number(before), 'side effects committed at the crash: the whole batch').to.equal(40);
    const svc = await idempotent(topic, group);
    await waitCaughtUp(c, group, topic);
    expect(new Set(await ledger(events, group)), 'ledger rows per event').to.deep.equal(
      new Set([1]),
    );
    expect(
      await metric(svc.url, 'lab_consumer_duplicates_skipped_total'),
      'the whole batch redelivered and skipped',
    ).to.equal(40);
    expect(await metric(svc.url, 'lab_consumer_side_effects_total')).to.equal(0);
  });
});
