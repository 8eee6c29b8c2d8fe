import { expect } from 'chai';
import type { Pool } from 'mysql2/promise';
import type { LabConfig } from '../../../src/lib/config';
import { dlqTopic } from '../../../src/lib/events';
import { readTopic } from '../../../src/lib/topics';
import { waitFor } from '../../../src/lib/wait';
import { ensureLab } from '../../support/lab';
import {
  countInTopic,
  freshGroup,
  freshTopic,
  ledgerCount,
  metric,
  produceEvents,
  productEvent,
  resetTables,
  startTestService,
  stopTestServices,
  waitTestServiceExit,
  testPool,
  uniqueId,
  waitCaughtUp,
} from '../../support/services';

describe('consumer-service', function () {
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

  /** Three versions of one product: one key, one partition, so "the 2nd message" is the same event every run. */
  async function threeEvents(tag: string) {
    const topic = await freshTopic(c, tag);
    const id = uniqueId();
    const events = [productEvent(id, 1), productEvent(id, 2), productEvent(id, 3)];
    await produceEvents(c, topic, events);
    return { topic, events };
  }

  it('in commit-first mode, a crash after the offset commit loses the event for good, though it is in the topic', async () => {
    const { topic, events } = await threeEvents('cons-commit-first');
    const group = freshGroup('commit-first');
    const env = { LAB_TOPIC: topic, LAB_CONSUMER_GROUP: group };
    await startTestService(c, 'consumer-service', {
      modes: { CONSUMER_MODE: 'commit-first' },
      env: { ...env, LAB_FAILPOINTS: 'consumer.after-commit-before-process=crash@2' },
    });
    await waitTestServiceExit(c, 'consumer-service');
    await startTestService(c, 'consumer-service', {
      modes: { CONSUMER_MODE: 'commit-first' },
      env,
    });
    await waitCaughtUp(c, group, topic);
    // commit-first commits before it processes: "caught up" comes before the last effect, so wait for that too.
    await waitFor(
      'the last event applied',
      async () => (await ledgerCount(pool, events[2].eventId, group)) === 1,
      { timeoutMs: 30_000 },
    );
    const applied = await Promise.all(events.map((e) => ledgerCount(pool, e.eventId, group)));
    expect(applied, 'ledger rows per version 1, 2, 3').to.deep.equal([1, 0, 1]);
    expect(
      await countInTopic(c, topic, events[1].eventId),
      'the lost event is in the topic',
    ).to.equal(1);
  });

  // naive goes message by message: the crash redelivers only the 2nd event. idempotent applies the three in one
  // transaction: the crash at the 2nd comes after it committed and before the batch's offsets, so all three come back.
  for (const [mode, expected, skipped] of [
    ['naive', 2, 0],
    ['idempotent', 1, 3],
  ] as const) {
    it(`in ${mode} mode, a crash after the side effect but before the offset commit makes the event applied ${expected === 1 ? 'once' : 'twice'}`, async () => {
      const { topic, events } = await threeEvents(`cons-redeliver-${mode}`);
      const group = freshGroup(mode);
      const env = { LAB_TOPIC: topic, LAB_CONSUMER_GROUP: group };
      await startTestService(c, 'consumer-service', {
        modes: { CONSUMER_MODE: mode },
        env: { ...env, LAB_FAILPOINTS: 'consumer.after-side-effect-before-commit=crash@2' },
      });
      await waitTestServiceExit(c, 'consumer-service');
      const svc = await startTestService(c, 'consumer-service', {
        modes: { CONSUMER_MODE: mode },
        env,
      });
      await waitCaughtUp(c, group, topic);
      const applied = await Promise.all(events.map((e) => ledgerCount(pool, e.eventId, group)));
      expect(applied, 'ledger rows per version 1, 2, 3').to.deep.equal([1, expected, 1]);
      expect(
        await metric(svc.url, 'lab_consumer_duplicates_skipped_total'),
        'redeliveries skipped',
      ).to.equal(skipped);
      const [view] = await pool.query('SELECT version FROM product_view WHERE product_id = ?', [
        events[0].productId,
      ]);
      expect(
        (view as { version: number }[])[0].version,
        'the read model ends at the last version',
      ).to.equal(3);
    });
  }

  it('keeps the read model at the newest version when an older event arrives late', async () => {
    const topic = await freshTopic(c, 'cons-order');
    const id = uniqueId();
    const [v1, v2, v3] = [productEvent(id, 1), productEvent(id, 2), productEvent(id, 3)];
    await produceEvents(c, topic, [v1, v3, v2]);
    const group = freshGroup('order');
    await startTestService(c, 'consumer-service', {
      modes: { CONSUMER_MODE: 'idempotent' },
      env: { LAB_TOPIC: topic, LAB_CONSUMER_GROUP: group },
    });
    await waitCaughtUp(c, group, topic);
    const [rows] = await pool.query(
      'SELECT version, stock FROM product_view WHERE product_id = ?',
      [id],
    );
    expect((rows as object[])[0]).to.deep.equal({ version: 3, stock: 3 });
    expect((await readTopic(c, topic)).length).to.equal(3);
  });

  it('retries a message that keeps failing CONSUMER_MAX_ATTEMPTS times, then parks it in the DLQ and moves on', async () => {
    const topic = await freshTopic(c, 'cons-retry');
    // A name the column cannot hold: MariaDB (strict mode) rejects the insert on every attempt.
    const bad = { ...productEvent(uniqueId(), 1), name: 'x'.repeat(300) };
    const next = productEvent(uniqueId(), 1);
    await produceEvents(c, topic, [bad, next], 0);
    const group = freshGroup('retry');
    const svc = await startTestService(c, 'consumer-service', {
      env: {
        LAB_TOPIC: topic,
        LAB_CONSUMER_GROUP: group,
        CONSUMER_MAX_ATTEMPTS: '4',
        CONSUMER_RETRY_BACKOFF_MS: '20',
      },
    });
    await waitCaughtUp(c, group, topic);
    expect(await ledgerCount(pool, next.eventId, group)).to.equal(1);
    expect(await metric(svc.url, 'lab_consumer_retries_total')).to.equal(3);
    const dlq = await readTopic(c, dlqTopic(topic));
    expect(dlq.map((r) => [r.headers['dedup-key'], r.headers.attempts])).to.deep.equal([
      [bad.eventId, '4'],
    ]);
    expect(dlq[0].headers.error).to.match(/too long/i);
  });
});
