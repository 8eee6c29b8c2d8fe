import { expect } from 'chai';
import { expectOutcome, runById, SEEDS } from './support';

describe('E-008 cache stampede at expiry with a slow DB, per STAMPEDE mode', function () {
  // One run restarts both query-services twice; on a loaded 2-core box a start alone can take 20-30 s.
  this.timeout(420_000);
  for (const seed of SEEDS) {
    it(`none loads the DB once per concurrent miss; singleflight and soft-ttl once per key per expiry, and soft-ttl blocks no reader (seed ${seed})`, async () => {
      const r = await runById('E-008', seed);
      expectOutcome(r, 'completed');
      const f = r.audit!.figures;
      expect(f.keyExpiries, 'every round asked for at least one hot key').to.be.greaterThan(0);
      // The stampede: most of a round's readers miss together and each runs the same SELECT.
      expect(f.noneDbLoadsPerKey).to.be.at.least(10);
      expect(f.noneDbLoads).to.equal(f.noneBlockedCallers);
      // One load per key per expiry, across two instances, by MariaDB's count and the services' alike.
      for (const m of ['singleflight', 'softTtl']) {
        expect(f[`${m}DbLoads`], `${m} DB loads (MariaDB)`).to.equal(f.keyExpiries);
        expect(f[`${m}DbLoadsByService`], `${m} DB loads (service counters)`).to.equal(
          f[`${m}DbLoads`],
        );
      }
      expect(f.noneDbLoadsByService).to.equal(f.noneDbLoads);
      expect(f.softTtlBlockedCallers).to.equal(0);
      expect(f.softTtlStaleAnswers).to.be.greaterThan(0);
      for (const m of ['none', 'singleflight', 'softTtl'])
        expect(f[`${m}Errors`], `${m} failed reads`).to.equal(0);
      // The report gets one DB-rate series per mode, with the none spike in it.
      const plot = r.audit!.plots![0];
      expect(plot.series.map((s) => s.name)).to.deep.equal(['none', 'singleflight', 'soft-ttl']);
      const peak = (name: string) =>
        Math.max(...plot.series.find((s) => s.name === name)!.points.map((p) => p[1]));
      expect(peak('none')).to.be.greaterThan(peak('singleflight'));
    });
  }
});
