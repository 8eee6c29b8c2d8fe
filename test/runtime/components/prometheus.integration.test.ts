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
    expect(snapshot.status, await snapshot.text()).to.not.equal(200);
    const reload = await fetch(`${base}/-/reload`, { method: 'POST' });
    expect(reload.status, await reload.text()).to.equal(403);
    expect((await fetch(`${base}/-/ready`)).status, 'still up after the refused /-/quit-class calls').to.equal(200);
  });
});
