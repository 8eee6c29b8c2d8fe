import { expect } from 'chai';
import * as mysql from 'mysql2/promise';
import { applyFault, type FaultEnv } from '../../../src/chaos/faults';
import { ToxicGoneError, toxiproxy } from '../../../src/chaos/toxics';
import type { LabConfig } from '../../../src/lib/config';
import { dbConnectionOptions } from '../../../src/runtime/stack';
import { ensureLab } from '../../support/lab';
import { runPort } from '../../../src/runtime/run-port';

/** The latency fault kind against the real Toxiproxy of the lab: added with Toxiproxy's names, felt, removed. */
describe('the latency fault on the real Toxiproxy', function () {
  this.timeout(120_000);
  let c: LabConfig;
  let conn: mysql.Connection;
  const notes: string[] = [];
  const env = (): FaultEnv => {
    const unused = () => Promise.reject(new Error('not used by a toxic'));
    return {
      c,
      port: runPort({
        url: () => '',
        start: unused,
        stop: unused,
        stopped: () => false,
        replay: unused,
      }),
      topic: 'lab.test.latency',
      note: (w) => void notes.push(w),
    };
  };
  const toxicsOn = async (proxy: string) => {
    const toxics = (await (
      await fetch(`http://${c.host}:${c.ports.toxiproxy}/proxies/${proxy}/toxics`)
    ).json()) as { name: string; type: string; attributes: unknown }[];
    return toxics.map((t) => ({ name: t.name, type: t.type, attributes: t.attributes }));
  };
  const median = async () => {
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      await conn.query('SELECT 1');
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[3];
  };

  before(async () => {
    c = await ensureLab();
    conn = await mysql.createConnection(dbConnectionOptions(c));
  });
  after(async () => {
    await conn?.end();
  });

  it("adds latencyMs/jitterMs as Toxiproxy's latency/jitter, slows queries by it, and its rollback removes it", async () => {
    const base = await median();
    const applied = await applyFault(
      env(),
      {
        type: 'latency',
        proxy: 'mysql',
        latencyMs: 150,
        jitterMs: 0,
        stream: 'downstream',
        toxicity: 1,
      },
      { index: 7, name: 'slow db' },
    );
    expect(applied.facts).to.deep.equal({ toxicsAdded: 1 });
    expect(await toxicsOn('mysql')).to.deep.equal([
      { name: 'exp7_latency_downstream', type: 'latency', attributes: { latency: 150, jitter: 0 } },
    ]);
    const slowed = await median();
    await applied.rollback!.run();
    expect(await toxicsOn('mysql')).to.deep.equal([]);
    expect(slowed - base).to.be.within(110, 190);
  });

  it('removed by its durationMs timer, does not fail the rollback', async () => {
    const applied = await applyFault(
      env(),
      {
        type: 'latency',
        proxy: 'redis',
        latencyMs: 20,
        jitterMs: 0,
        stream: 'downstream',
        toxicity: 1,
        durationMs: 300,
      },
      { index: 1, name: 'brief' },
    );
    expect(await toxicsOn('redis')).to.have.length(1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await toxicsOn('redis')).to.deep.equal([]);
    expect(notes).to.include('toxic exp1_latency_downstream removed from redis after 300 ms');
    await applied.rollback!.run();
  });

  it('removed behind its back (a reset), makes the rollback throw ToxicGoneError', async () => {
    const applied = await applyFault(
      env(),
      {
        type: 'latency',
        proxy: 'redis',
        latencyMs: 20,
        jitterMs: 0,
        stream: 'upstream',
        toxicity: 1,
      },
      { index: 2, name: 'lost' },
    );
    await toxiproxy(c).reset();
    const err = await applied.rollback!.run().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(ToxicGoneError);
    expect(err!.message).to.equal(
      'toxic exp2_latency_upstream is not on proxy redis any more (removed by `chaos heal`, or Toxiproxy restarted)',
    );
  });

  it('took effect only when bytes crossed its proxy: none with no connection or an idle one, some after a query', async () => {
    // a scratch proxy of its own: the lab's proxies carry other clients' traffic
    const proxy = 'lab-test-traffic';
    const listen = `${c.host}:${c.ports.mysqlUpstream + 1000}`;
    const api = `http://${c.host}:${c.ports.toxiproxy}/proxies`;
    const made = await fetch(api, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: proxy, listen, upstream: `${c.host}:${c.ports.mysqlUpstream}` }),
    });
    expect(made.status, await made.text()).to.equal(201);
    let scratch: mysql.Connection | undefined;
    try {
      const slow = (index: number) =>
        applyFault(
          env(),
          { type: 'latency', proxy, latencyMs: 5, jitterMs: 0, stream: 'downstream', toxicity: 1 },
          { index, name: 'slow scratch' },
        );
      const alone = await slow(1);
      await alone.rollback!.run();
      expect(await alone.tookEffect!()).to.deep.include({ took: false });

      scratch = await mysql.createConnection({
        ...dbConnectionOptions(c),
        port: Number(listen.split(':')[1]),
      });
      await scratch.query('SELECT 1');
      const idle = await slow(2);
      await idle.rollback!.run();
      expect(await idle.tookEffect!()).to.deep.include({ took: false });

      const busy = await slow(3);
      await scratch.query('SELECT 1');
      await busy.rollback!.run();
      const effect = await busy.tookEffect!();
      expect(effect.took, effect.detail).to.equal(true);
      expect(effect.detail).to.match(
        /^lab-test-traffic downstream: \d+ bytes entered on 1 connection\(s\)/,
      );
    } finally {
      await scratch?.end();
      await fetch(`${api}/${proxy}`, { method: 'DELETE' });
    }
  });
});
