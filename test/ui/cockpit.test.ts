import { expect } from 'chai';
import { startUiApp } from '../support/ui-app';
import { loadConfig, PORT_DEFAULTS } from '../../src/lib/config';
import { grafanaDurationSec, interpolate, loadDashboards } from '../../src/ui/dashboards';
import { catalog } from '../../src/ui/faults';

describe('lab UI cockpit requests (no stack needed: refused before anything runs)', () => {
  let url: string;
  let stop: () => Promise<void>;
  const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const answer = async (r: Response) => ({ status: r.status, ...((await r.json()) as object) });

  before(async () => {
    ({ url, stop } = await startUiApp('lab-ui-cockpit-'));
  });
  after(() => stop());

  it('refuses an unknown experiment with the message `chaos exp run` gives (400)', async () => {
    const r = await answer(await post('/api/runs', { id: 'E-999' }));
    expect(r).to.deep.include({ status: 400 });
    expect(r)
      .to.have.property('error')
      .that.match(/^unknown experiment "E-999"; known: E-001/);
  });

  it('refuses a path, a bad side and a bad seed before anything runs (400)', async () => {
    for (const body of [
      { id: '../../etc/passwd' },
      { id: 'E-002', side: 'sideways' },
      { id: 'E-002', seed: -1 },
      { id: 'E-002', extra: 1 },
    ])
      expect((await post('/api/runs', body)).status, JSON.stringify(body)).to.equal(400);
  });

  it('refuses run, stop, inject and heal from another origin (403)', async () => {
    const evil = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' };
    for (const p of [
      '/api/runs',
      '/api/runs/stop',
      '/api/inject',
      '/api/faults/remove',
      '/api/heal',
    ])
      expect((await post(p, {}, evil)).status, p).to.equal(403);
  });

  it('refuses a fault the CLI refuses, with its message (400)', async () => {
    const unknown = await answer(await post('/api/inject', { fault: 'meteor' }));
    expect(unknown).to.deep.include({ status: 400 });
    expect(unknown)
      .to.have.property('error')
      .that.match(/^unknown fault "meteor"; valid: .*latency/);
    const noTarget = await answer(await post('/api/inject', { fault: 'latency' }));
    expect(noTarget)
      .to.have.property('error')
      .that.match(/^latency needs --target <proxy>/);
    const notANumber = await answer(
      await post('/api/inject', {
        fault: 'latency',
        target: 'mysql',
        flags: { 'latency-ms': 'x' },
      }),
    );
    expect(notANumber).to.deep.include({ status: 400, error: '--latency-ms x: expected a number' });
    const otherKind = await answer(
      await post('/api/inject', { fault: 'latency', target: 'mysql', flags: { 'rate-kbps': '5' } }),
    );
    expect(otherKind)
      .to.have.property('error')
      .that.match(/^--rate-kbps is not an attribute of latency/);
  });

  it('says no run is going on when asked to stop one (409)', async () => {
    const r = await fetch(`${url}/api/runs/current`);
    const state = (await r.json()) as { holder: unknown };
    if (state.holder) return; // a lab run on this machine holds the lock: nothing to assert here
    expect(await answer(await post('/api/runs/stop', {}))).to.deep.include({
      status: 409,
      error: 'no experiment is running',
    });
  });
});

describe('lab UI cockpit data', () => {
  it('offers every `chaos inject` name as a form, with units read from the attribute names', () => {
    const c = catalog();
    const latency = c.find((f) => f.name === 'latency');
    expect(latency?.target).to.equal('proxy');
    expect(latency?.fields.find((f) => f.flag === 'latency-ms')).to.deep.include({ unit: 'ms' });
    const kill = c.find((f) => f.name === 'broker-kill');
    expect(kill).to.deep.include({ kind: 'broker', target: 'broker', fixed: { action: 'kill' } });
    expect(kill?.fields.map((f) => f.name)).to.not.include('action');
  });

  it('reads every Grafana dashboard with its range, refresh and every panel that has a query', () => {
    const ds = loadDashboards(loadConfig().root);
    expect(ds.length).to.be.at.least(4);
    for (const d of ds) {
      expect(d.rangeSec, d.uid).to.be.above(0);
      expect(d.panels.length, d.uid).to.be.above(0);
      for (const p of d.panels) expect(p.targets.length, `${d.uid} ${p.title}`).to.be.above(0);
    }
    expect(grafanaDurationSec('now-30m')).to.equal(1800);
    expect(grafanaDurationSec('5s')).to.equal(5);
    expect(() => grafanaDurationSec('yesterday')).to.throw(/unsupported Grafana time/);
  });

  it("fills Grafana's variables the way its 'All' and interval rules do", () => {
    const q = 'sum(rate(x{run=~"$run",topic=~"${topic}"}[$__rate_interval])) + y[$__range]';
    expect(interpolate(q, { rangeSec: 1800, stepSec: 6, scrapeSec: 1 })).to.equal(
      'sum(rate(x{run=~".*",topic=~".*"}[6s])) + y[1800s]',
    );
    expect(
      interpolate('rate(x[$__rate_interval])', { rangeSec: 60, stepSec: 1, scrapeSec: 1 }),
    ).to.equal('rate(x[4s])');
  });

  it("moves the UI's port with LAB_PORT_OFFSET onto a port no other lab's offset uses", () => {
    const ui = loadConfig({ LAB_PORT_OFFSET: '2000' }).ports.labUi;
    expect(ui).to.equal(PORT_DEFAULTS.labUi + 2000);
    const others = Object.entries(PORT_DEFAULTS).filter(([k]) => k !== 'labUi');
    for (const step of [-3000, -2000, -1000, 0, 1000, 2000, 3000])
      for (const [name, port] of others)
        expect(PORT_DEFAULTS.labUi, `${name} at offset ${step}`).to.not.equal(port + step);
  });
});
