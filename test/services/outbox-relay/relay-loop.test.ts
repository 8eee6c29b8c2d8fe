import { expect } from 'chai';
import type { PoolConnection } from 'mysql2/promise';
import { Registry } from 'prom-client';
import { EVENT_ID_HEADER } from '../../../src/lib/events';
import { RelayLoop, relayMetrics, type RelayDeps } from '../../../src/services/outbox-relay/relay';
import type { Claim, OutboxRow } from '../../../src/services/outbox-relay/store';

/** An outbox table in memory: claims lock rows in id order (SKIP LOCKED), mark publishes them, release unlocks. */
function fakeStore(n: number, batchSize: number) {
  const rows = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    published: false,
    locked: false,
  }));
  const log: string[] = [];
  const store: RelayDeps['store'] = {
    probe: async () => rows.some((r) => !r.published),
    claim: async () => {
      const take = rows.filter((r) => !r.published && !r.locked).slice(0, batchSize);
      if (!take.length) return null;
      take.forEach((r) => (r.locked = true));
      const claimed = take.map(
        (r) =>
          ({ id: r.id, event_id: `e${r.id}`, aggregate_id: r.id % 2, payload: `{}` }) as OutboxRow,
      );
      return { conn: {} as PoolConnection, rows: claimed };
    },
    mark: async (b: Claim) => {
      log.push(`mark ${b.rows.map((r) => r.id)}`);
      for (const x of b.rows) Object.assign(rows[x.id - 1], { published: true, locked: false });
    },
    release: async (b: Claim, attempted: boolean) => {
      log.push(`release ${b.rows.map((r) => r.id)} ${attempted}`);
      for (const x of b.rows) rows[x.id - 1].locked = false;
    },
    backlog: async () => ({ n: rows.filter((r) => !r.published).length, age: 0 }),
  };
  return { rows, log, store };
}

function relay(pipeline: boolean, failSends = 0) {
  const batchSize = 2;
  const { rows, log, store } = fakeStore(5, batchSize);
  const sent: string[] = [];
  let failures = failSends;
  const deps: RelayDeps = {
    cfg: { topic: 't', batchSize, pipeline, pollMs: 1 },
    store,
    producer: {
      send: async (r) => {
        if (failures-- > 0) throw new Error('broker down');
        sent.push(r.messages.map((m) => String(m.headers?.[EVENT_ID_HEADER])).join());
        return [];
      },
    },
    failpoints: { hit: async () => {} },
    log: { warn: () => {} },
    m: relayMetrics(new Registry()),
    schemaLabel: { schema: 'json' },
    encodeValue: async (p) => p,
  };
  const loop = new RelayLoop(deps);
  const drained = async () => {
    void loop.start();
    for (let i = 0; i < 500 && rows.some((r) => !r.published); i++)
      await new Promise((r) => setTimeout(r, 5));
    await loop.stop();
  };
  return { loop, log, sent, rows, drained };
}

describe('the outbox relay’s loop (fake store and producer)', () => {
  for (const pipeline of [false, true])
    it(`publishes every row, batch after batch in id order, and marks each once (pipeline: ${pipeline})`, async () => {
      const r = relay(pipeline);
      await r.drained();
      expect(r.rows.every((x) => x.published)).to.equal(true);
      expect(r.log).to.deep.equal(['mark 1,2', 'mark 3,4', 'mark 5']);
      expect(r.sent).to.deep.equal(['e1,e2', 'e3,e4', 'e5']);
      expect(r.loop.lastBatchAt).to.be.a('string');
    });

  it('releases a batch whose send failed, counting the attempt, and publishes it again after', async () => {
    const r = relay(false, 1);
    await r.drained();
    expect(r.log).to.deep.equal(['release 1,2 true', 'mark 1,2', 'mark 3,4', 'mark 5']);
    expect(r.sent).to.deep.equal(['e1,e2', 'e3,e4', 'e5']);
    expect(r.loop.lastError).to.equal(null);
  });
});
