import { expect } from 'chai';
import type { LabConfig } from '../../../src/lib/config';
import { ensureLab } from '../../support/lab';

describe('the lab\'s Prometheus (real, started by `chaos up`)', () => {
  let base: string;
  before(async function () {
    this.timeout(360_000);
    const c: LabConfig = await ensureLab();
    base = `http://${c.host}:${c.ports.prometheus}`;
  });

  it('answers queries but refuses its admin API (snapshots, series deletion) and lifecycle API (reload, quit)', async () => {
    expect((await fetch(`${base}/api/v1/query?query=up`)).status).to.equal(200);
    const snapshot = await fetch(`${base}/api/v1/admin/tsdb/snapshot`, { method: 'POST' });
    expect(snapshot.status).to.not.equal(200);
    expect(await snapshot.text()).to.contain('admin APIs disabled');
    const reload = await fetch(`${base}/-/reload`, { method: 'POST' });
    expect([reload.status, await reload.text()]).to.deep.equal([403, 'Lifecycle API is not enabled.']);
    expect((await fetch(`${base}/-/ready`)).status).to.equal(200);
  });
});
