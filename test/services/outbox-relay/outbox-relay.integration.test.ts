import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { LabConfig } from '../../../src/lib/config';
import { readTopic } from '../../../src/lib/topics';
import { sleep, waitFor } from '../../../src/lib/wait';
import { ensureLab } from '../../support/lab';
import {
  countInTopic,
  freshGroup,
  freshTopic,
  http,
  ledgerCount,
  metric,
  resetTables,
  startTestService,
  stopTestService,
  stopTestServices,
  waitTestServiceExit,
  testPool,
  testServiceName,
  uniqueId,
  waitCaughtUp,
} from '../../support/services';
import { supervisorFor } from '../../../src/runtime/stack';

describe('outbox-relay', function () {
  this.timeout(180_000);
  let c: LabConfig;
  let pool: Pool;

  before(async () => {
    c = await ensureLab();
    pool = testPool(c);
    await resetTables(c, pool);
  });
  after(async () => {
    if (c) await stopTestServices(c);
    await pool?.end();
  });

  /** Writes one product through command-service in outbox mode; no relay runs yet, so the row waits. */
  async function commandInOutbox(topic: string): Promise<{ eventId: string; productId: number }> {
    const svc = await startTestService(c, 'command-service', {
      modes: { COMMAND_MODE: 'outbox' },
      env: { LAB_TOPIC: topic },
    });
    const res = await http<{ eventId: string; productId: number }>('POST', `${svc.url}/products`, {
      id: uniqueId(),
      name: 'outboxed',
      price: 5,
      stock: 5,
    });
    expect(res.status).to.equal(201);
    return res.body;
  }
  const outboxRow = async (eventId: string) => {
    const [rows] = await pool.query<RowDataPacket[]>(
      'SELECT published_at, attempts FROM outbox WHERE event_id = ?',
      [eventId],
    );
    return rows[0] as { published_at: string | null; attempts: number };
  };
  const waitPublished = (eventId: string) =>
    waitFor(
      `outbox row ${eventId} marked published`,
      async () => (await outboxRow(eventId)).published_at !== null,
      { timeoutMs: 30_000, intervalMs: 100 },
    );

  describe('killed after publishing a batch but before marking it published', () => {
    let topic: string;
    let eventId: string;

    before(async () => {
      topic = await freshTopic(c, 'relay-dup');
      ({ eventId } = await commandInOutbox(topic));
      await startTestService(c, 'outbox-relay', {
        env: { LAB_TOPIC: topic, LAB_FAILPOINTS: 'relay.after-publish-before-mark=crash@1' },
      });
      await waitTestServiceExit(c, 'outbox-relay');
      expect((await outboxRow(eventId)).published_at, 'the mark never committed').to.equal(null);
      const relay = await startTestService(c, 'outbox-relay', { env: { LAB_TOPIC: topic } });
      await waitPublished(eventId);
      expect(await metric(relay.url, 'lab_outbox_relay_published_total')).to.equal(1);
    });

    it('publishes the event again on restart, so the topic holds it twice', async () => {
      expect(await countInTopic(c, topic, eventId)).to.equal(2);
    });

    it('lets an idempotent consumer apply it once and skip the duplicate', async () => {
      const group = freshGroup('relay-idem');
      const svc = await startTestService(c, 'consumer-service', {
        modes: { CONSUMER_MODE: 'idempotent' },
        env: { LAB_TOPIC: topic, LAB_CONSUMER_GROUP: group },
      });
      await waitCaughtUp(c, group, topic);
      expect(await ledgerCount(pool, eventId, group)).to.equal(1);
      expect(await metric(svc.url, 'lab_consumer_duplicates_skipped_total')).to.equal(1);
    });

    it('makes a naive consumer apply it twice (two ledger rows)', async () => {
      const group = freshGroup('relay-naive');
      await startTestService(c, 'consumer-service', {
        modes: { CONSUMER_MODE: 'naive' },
        env: { LAB_TOPIC: topic, LAB_CONSUMER_GROUP: group },
      });
      await waitCaughtUp(c, group, topic);
      expect(await ledgerCount(pool, eventId, group)).to.equal(2);
    });
  });

  it('killed before publishing, publishes the row exactly once after restart', async () => {
    const topic = await freshTopic(c, 'relay-before');
    const { eventId } = await commandInOutbox(topic);
    await startTestService(c, 'outbox-relay', {
      env: { LAB_TOPIC: topic, LAB_FAILPOINTS: 'relay.before-publish=crash@1' },
    });
    await waitTestServiceExit(c, 'outbox-relay');
    expect(await readTopic(c, topic)).to.have.length(0);
    await startTestService(c, 'outbox-relay', { env: { LAB_TOPIC: topic } });
    await waitPublished(eventId);
    expect(await countInTopic(c, topic, eventId)).to.equal(1);
    expect((await outboxRow(eventId)).attempts).to.equal(1);
  });

  it("with two relays sharded 0/2 and 1/2, keeps each product's events in version order", async () => {
    const topic = await freshTopic(c, 'relay-shard');
    const svc = await startTestService(c, 'command-service', {
      modes: { COMMAND_MODE: 'outbox' },
      env: { LAB_TOPIC: topic },
    });
    const ids = Array.from({ length: 6 }, () => uniqueId());
    for (const id of ids)
      await http('POST', `${svc.url}/products`, { id, name: 'v1', price: 1, stock: 1 });
    for (let v = 2; v <= 5; v++)
      for (const id of ids) await http('PUT', `${svc.url}/products/${id}`, { stock: v });
    await startTestService(c, 'outbox-relay', {
      env: { LAB_TOPIC: topic, RELAY_SHARD: '0/2', RELAY_BATCH_SIZE: '3' },
    });
    await startTestService(c, 'outbox-relay', {
      copy: 2,
      env: { LAB_TOPIC: topic, RELAY_SHARD: '1/2', RELAY_BATCH_SIZE: '3' },
    });
    await waitFor(
      'outbox drained',
      async () => {
        const [rows] = await pool.query<RowDataPacket[]>(
          'SELECT COUNT(*) AS n FROM outbox WHERE topic = ? AND published_at IS NULL',
          [topic],
        );
        return Number(rows[0].n) === 0;
      },
      { timeoutMs: 30_000 },
    );
    await stopTestService(c, 'outbox-relay', 2);
    const records = await readTopic(c, topic);
    expect(records).to.have.length(30);
    for (const id of ids) {
      const versions = records
        .filter((r) => r.key === String(id))
        .map((r) => JSON.parse(String(r.value)).version);
      expect(versions, `product ${id}`).to.deep.equal([1, 2, 3, 4, 5]);
    }
  });
  it('publishes each payload as the exact text in the outbox, numbers past 2^53 and whitespace included', async () => {
    const topic = await freshTopic(c, 'relay-bytes');
    const payload = '{"productId": 12345678901234567890, "note": "spaced  out",  "price": "1.10"}';
    await pool.query(
      'INSERT INTO outbox (event_id, topic, aggregate_type, aggregate_id, event_type, payload) VALUES (?, ?, ?, ?, ?, ?)',
      [randomUUID(), topic, 'product', 1, 'ProductCreated', payload],
    );
    await startTestService(c, 'outbox-relay', { env: { LAB_TOPIC: topic } });
    const records = await waitFor(
      'the record in the topic',
      async () => {
        const r = await readTopic(c, topic);
        return r.length > 0 && r;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await stopTestService(c, 'outbox-relay');
    expect(records.map((r) => String(r.value))).to.deep.equal([payload]);
  });

  describe('with RELAY_PIPELINE, claiming the next batch while one is in flight', () => {
    /** 6 products × versions 1…10, bulk-inserted in one transaction in version order: a backlog of 60 rows. */
    async function backlog(topic: string) {
      const ids = Array.from({ length: 6 }, () => uniqueId());
      const rows = [];
      for (let v = 1; v <= 10; v++)
        for (const id of ids)
          rows.push([
            randomUUID(),
            topic,
            'product',
            id,
            v === 1 ? 'ProductCreated' : 'ProductUpdated',
            JSON.stringify({ productId: id, version: v }),
          ]);
      await pool.query(
        'INSERT INTO outbox (event_id, topic, aggregate_type, aggregate_id, event_type, payload) VALUES ?',
        [rows],
      );
      return ids;
    }
    /** Rows of the topic no transaction holds: the relay's claimed batches are locked, so they are not counted. */
    async function unclaimed(topic: string): Promise<number> {
      const conn = await pool.getConnection();
      try {
        await conn.beginTransaction();
        const [rows] = await conn.query<RowDataPacket[]>(
          'SELECT id FROM outbox WHERE topic = ? AND published_at IS NULL FOR UPDATE SKIP LOCKED',
          [topic],
        );
        return rows.length;
      } finally {
        await conn.rollback();
        conn.release();
      }
    }
    /**
     * Holds the first batch at relay.before-publish and counts what the relay holds meanwhile. The count locks
     * what it counts (SKIP LOCKED), so it runs once, after the failpoint fired: polled while the relay claims, it
     * would hide the rows from the relay's second claim.
     */
    async function heldWhileFirstBatchInFlight(pipeline: boolean) {
      const topic = await freshTopic(c, `relay-pipeline-${pipeline}`);
      const ids = await backlog(topic);
      const log = supervisorFor(c).logFile(testServiceName('outbox-relay'));
      const from = fs.existsSync(log) ? fs.statSync(log).size : 0; // the log is appended to by every start
      const relay = await startTestService(c, 'outbox-relay', {
        env: {
          LAB_TOPIC: topic,
          RELAY_BATCH_SIZE: '10',
          RELAY_PIPELINE: String(pipeline),
          LAB_FAILPOINTS: 'relay.before-publish=delay:4000@1',
        },
      });
      await waitFor(
        'relay.before-publish to fire',
        async () =>
          fs
            .readFileSync(log)
            .subarray(from)
            .toString()
            .includes('"failpoint":"relay.before-publish"'),
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      await sleep(500); // the pipelined claim was issued before the failpoint; let it finish
      const held = 60 - (await unclaimed(topic));
      await waitFor(
        'outbox drained',
        async () =>
          (
            await pool.query<RowDataPacket[]>(
              'SELECT COUNT(*) AS n FROM outbox WHERE topic = ? AND published_at IS NULL',
              [topic],
            )
          )[0][0].n === 0,
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      const overlaps = await metric(relay.url, 'lab_outbox_relay_claim_overlaps_total');
      await stopTestService(c, 'outbox-relay');
      return { held, overlaps, records: await readTopic(c, topic), ids };
    }

    let piped: Awaited<ReturnType<typeof heldWhileFirstBatchInFlight>>;
    before(async () => {
      piped = await heldWhileFirstBatchInFlight(true);
    });

    it('holds two batches while the first is in flight (one without it)', async () => {
      expect(piped.held, 'rows claimed with the pipeline').to.equal(20);
      expect(
        (await heldWhileFirstBatchInFlight(false)).held,
        'rows claimed without the pipeline',
      ).to.equal(10);
    });

    it('counts no claim overlap: the batch in flight is its own, not another relay’s', () => {
      // Each pipelined claim passes the locked rows of the batch in flight, whose products it shares.
      expect(piped.overlaps).to.equal(0);
    });

    it("still publishes a backlog once each, every product's events in version order", async () => {
      const { records, ids } = piped;
      expect(records).to.have.length(60);
      for (const id of ids) {
        const versions = records
          .filter((r) => r.key === String(id))
          .map((r) => JSON.parse(String(r.value)).version);
        expect(versions, `product ${id}`).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      }
    });

    it('after a failure of the 2nd batch, with the 1st still being marked, publishes every row again from the 2nd on, in order', async () => {
      const topic = await freshTopic(c, 'relay-pipeline-error');
      const ids = await backlog(topic);
      // error, not crash: the relay lives on, so the batch before (marking meanwhile) must still be marked, and the
      // next one (claimed meanwhile) released, not lost.
      await startTestService(c, 'outbox-relay', {
        env: {
          LAB_TOPIC: topic,
          RELAY_BATCH_SIZE: '10',
          RELAY_PIPELINE: 'true',
          LAB_FAILPOINTS: 'relay.after-publish-before-mark=error@2',
        },
      });
      await waitFor(
        'outbox drained',
        async () =>
          (
            await pool.query<RowDataPacket[]>(
              'SELECT COUNT(*) AS n FROM outbox WHERE topic = ? AND published_at IS NULL',
              [topic],
            )
          )[0][0].n === 0,
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      await stopTestService(c, 'outbox-relay');
      const records = await readTopic(c, topic);
      expect(records, '60 rows, the failed batch of 10 twice').to.have.length(70);
      const [attempts] = await pool.query<RowDataPacket[]>(
        'SELECT attempts, COUNT(*) AS n FROM outbox WHERE topic = ? GROUP BY attempts ORDER BY attempts',
        [topic],
      );
      expect(
        attempts.map((r) => [r.attempts, Number(r.n)]),
        'rows by publish attempts',
      ).to.deep.equal([
        [1, 50],
        [2, 10],
      ]);
      for (const id of ids) {
        const versions = records
          .filter((r) => r.key === String(id))
          .map((r) => JSON.parse(String(r.value)).version as number);
        expect([...new Set(versions)], `product ${id}, first occurrences`).to.deep.equal([
          1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
        ]);
      }
    });
  });
});
