import { expect } from 'chai';
import type { LabConfig } from '../../src/lib/config';
import { addToxic } from '../../src/chaos/toxics';
import { isPortFree } from '../../src/runtime/ports';
import { silentProgress } from '../../src/runtime/progress';
import { down, infraComponents, supervisorFor, up } from '../../src/runtime/stack';
import { isSameProcess } from '../../src/runtime/supervisor';
import { ensureLab } from '../support/lab';

describe('chaos down', function () {
  this.timeout(300_000);
  let c: LabConfig;
  before(async () => {
    c = await ensureLab();
  });
  // Leave the stack up for the suites that follow.
  after(async () => {
    await up(c, silentProgress);
  });

  it('stops every process it started, frees every port and leaves no toxic; up then brings it all back', async () => {
    await addToxic(c, { proxy: 'redis', type: 'latency', name: 'left-behind', attributes: { latency: 50 } });
    const before = supervisorFor(c).list();
    expect(before.length).to.be.at.least(infraComponents(c).length);

    const res = await down(c);
    expect(res.toxicsRemoved).to.equal(true);
    for (const rec of before) expect(isSameProcess(rec), `${rec.name} pid ${rec.pid} still alive`).to.equal(false);
    expect(supervisorFor(c).list()).to.deep.equal([]);
    for (const comp of infraComponents(c))
      for (const { port } of comp.ports) expect(await isPortFree(port), `${comp.name} port ${port}`).to.equal(true);

    const again = await up(c, silentProgress);
    expect(again.started).to.have.length(infraComponents(c).length);
    const toxics = await (await fetch(`http://${c.host}:${c.ports.toxiproxy}/proxies/redis/toxics`)).json();
    expect(toxics).to.deep.equal([]); // a fresh Toxiproxy starts clean as well
  });
});
