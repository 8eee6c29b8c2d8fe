import { expect } from 'chai';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { LabConfig } from '../../../src/lib/config';
import { readTopic } from '../../../src/lib/topics';
import { ensureLab } from '../../support/lab';
import {
  freshTopic,
  http,
  metric,
  resetTables,
  startTestService,
  stopTestServices,
  waitTestServiceExit,
  testPool,
  uniqueId,
} from '../../support/services';

describe('command-service', function () {
  this.timeout(120_000);
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

  const committed = async (topic: string) => {
    const [rows] = await pool.query<RowDataPacket[]>(
      'SELECT event_id, product_id FROM command_log WHERE topic = ? ORDER BY id',
      [topic],
    );
    return rows as { event_id: string; product_id: number }[];
  };

  it('creates, updates and reads a product, bumping its version, with one outbox row per change', async () => {
    const topic = await freshTopic(c, 'cmd-crud');
    const svc = await startTestService(c, 'command-service', {
      modes: { COMMAND_MODE: 'outbox' },
      env: { LAB_TOPIC: topic },
    });
    const id = uniqueId();
    const created = await http('POST', `${svc.url}/products`, {
      id,
      name: 'kettle',
      price: 19.5,
      stock: 4,
    });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ productId: id, version: 1 });
    const updated = await http('PUT', `${svc.url}/products/${id}`, { stock: 3 });
    expect(updated.body).to.include({ productId: id, version: 2 });
    expect((await http('GET', `${svc.url}/products/${id}`)).body).to.include({
      id,
      name: 'kettle',
      price: 19.5,
      stock: 3,
      version: 2,
    });
    const [outbox] = await pool.query<RowDataPacket[]>(
      'SELECT event_id FROM outbox WHERE aggregate_id = ? ORDER BY id',
      [id],
    );
    expect(outbox.map((r) => r.event_id)).to.deep.equal([
      created.body.eventId,
      updated.body.eventId,
    ]);
    expect((await http('PUT', `${svc.url}/products/${uniqueId()}`, { stock: 1 })).status).to.equal(
      404,
    );
    expect(
      (await http('POST', `${svc.url}/products`, { id, name: 'again', price: 1, stock: 1 })).status,
    ).to.equal(409);
  });

  it('in direct mode, a crash between commit and produce leaves a committed product whose event never reaches the topic', async () => {
    const topic = await freshTopic(c, 'cmd-direct');
    const svc = await startTestService(c, 'command-service', {
      modes: { COMMAND_MODE: 'direct' },
      env: { LAB_TOPIC: topic, LAB_FAILPOINTS: 'command.after-commit-before-produce=crash@2' },
    });
    const first = await http('POST', `${svc.url}/products`, {
      id: uniqueId(),
      name: 'first',
      price: 1,
      stock: 1,
    });
    expect(first.status).to.equal(201);
    expect(await metric(svc.url, 'lab_command_events_produced_total')).to.equal(1);
    const lostId = uniqueId();
    // The second request dies with the process: the client sees a broken connection, not an answer.
    const second = await http('POST', `${svc.url}/products`, {
      id: lostId,
      name: 'lost',
      price: 2,
      stock: 2,
    }).then(
      () => 'answered',
      () => 'connection died',
    );
    expect(second).to.equal('connection died');
    await waitTestServiceExit(c, 'command-service');

    const rows = await committed(topic);
    expect(rows.map((r) => Number(r.product_id))).to.deep.equal([first.body.productId, lostId]);
    const [product] = await pool.query<RowDataPacket[]>(
      'SELECT version FROM product WHERE id = ?',
      [lostId],
    );
    expect(product).to.have.length(1);
    const inTopic = new Set((await readTopic(c, topic)).map((r) => r.headers['event-id']));
    const lost = rows.filter((r) => !inTopic.has(r.event_id));
    expect({ committed: rows.length, inTopic: inTopic.size, lost: lost.length }).to.deep.equal({
      committed: 2,
      inTopic: 1,
      lost: 1,
    });
    expect(Number(lost[0].product_id)).to.equal(lostId);
  });

  it('rolls back product, command_log and outbox together when tx.before-commit fails', async () => {
    const topic = await freshTopic(c, 'cmd-tx');
    const svc = await startTestService(c, 'command-service', {
      modes: { COMMAND_MODE: 'outbox' },
      env: { LAB_TOPIC: topic },
    });
    expect(
      (await http('POST', `${svc.url}/failpoints/tx.before-commit`, { action: 'error' })).status,
    ).to.equal(200);
    const id = uniqueId();
    const res = await http('POST', `${svc.url}/products`, {
      id,
      name: 'never',
      price: 1,
      stock: 1,
    });
    expect(res.status).to.equal(500);
    const [[p], [o]] = await Promise.all([
      pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM product WHERE id = ?', [id]),
      pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM outbox WHERE aggregate_id = ?', [id]),
    ]);
    expect({
      product: Number(p[0].n),
      outbox: Number(o[0].n),
      commandLog: (await committed(topic)).length,
    }).to.deep.equal({ product: 0, outbox: 0, commandLog: 0 });
    // Fires once: the retry commits.
    expect(
      (await http('POST', `${svc.url}/products`, { id, name: 'retried', price: 1, stock: 1 }))
        .status,
    ).to.equal(201);
    expect(await readTopic(c, topic)).to.have.length(0); // outbox mode, no relay running: command-service itself publishes nothing
  });

  it('rejects an unknown mode or failpoint with the valid ones', async () => {
    let err: Error | undefined;
    await startTestService(c, 'command-service', { modes: { COMMAND_MODE: 'sometimes' } }).catch(
      (e: Error) => (err = e),
    );
    expect(err?.message).to.match(
      /unknown COMMAND_MODE for command-service "sometimes"; valid: outbox, direct/,
    );
    const svc = await startTestService(c, 'command-service');
    const res = await http('POST', `${svc.url}/failpoints/command.nope`, { action: 'crash' });
    expect(res.status).to.equal(404);
    expect(String(res.body.error)).to.include('command.after-commit-before-produce');
  });
});
