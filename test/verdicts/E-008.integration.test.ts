import { expect } from 'chai';
import {
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-008 cache stampede at expiry with a slow DB, both ways', function () {
  // The pattern side restarts both query-services twice; on a loaded 2-core box a start alone can take 20-30 s.
  this.timeout(600_000);
  for (const seed of SEEDS) {
    it(`none loads the DB once per concurrent miss; singleflight and soft-ttl once per key per expiry in the same storm, and soft-ttl blocks no reader (seed ${seed})`, async () => {
      const { antiPattern: none, pattern: protectedModes } = await runBothWays('E-008', seed);
      const n = none.audit!.figures;
      expect(n.keyExpiries, 'every round asked for at least one hot key').to.be.greaterThan(0);
      // The stampede: most of a round's readers miss together and each runs the same SELECT.
      expect(n.noneDbLoadsPerKey).to.be.at.least(10);
      expect(n.noneDbLoads).to.equal(n.noneBlockedCallers);
      expect(n.noneDbLoadsByService).to.equal(n.noneDbLoads);
      expect(n.noneErrors, 'none failed reads').to.equal(0);
      // One load per key per expiry, across two instances, by MariaDB's count and the services' alike.
      const f = protectedModes.audit!.figures;
      expect(f.keyExpiries, 'the same storm on both sides').to.equal(n.keyExpiries);
      for (const m of ['singleflight', 'softTtl']) {
        expect(f[`${m}DbLoads`], `${m} DB loads (MariaDB)`).to.equal(f.keyExpiries);
        expect(f[`${m}DbLoadsByService`], `${m} DB loads (service counters)`).to.equal(
          f[`${m}DbLoads`],
        );
        expect(f[`${m}Errors`], `${m} failed reads`).to.equal(0);
      }
      expect(f.softTtlBlockedCallers).to.equal(0);
      expect(f.softTtlStaleAnswers).to.be.greaterThan(0);
      // Each side's report gets one DB-rate series per mode it stormed; the none spike is above both others.
      const series = (run: typeof none) => run.audit!.plots![0].series;
      expect(series(none).map((s) => s.name)).to.deep.equal(['none']);
      expect(series(protectedModes).map((s) => s.name)).to.deep.equal(['singleflight', 'soft-ttl']);
      const peak = (s: { points: [number, number][] }) => Math.max(...s.points.map((p) => p[1]));
      for (const s of series(protectedModes))
        expect(peak(series(none)[0])).to.be.greaterThan(peak(s));
    });
  }

  it('catches the pattern side sabotaged: the fill lock is not waited for (STAMPEDE_LOCK_WAIT_MS=0), so the other instance loads too', async () => {
    const r = await expectSabotageCaught(
      'E-008',
      SEEDS[0],
      (e) => {
        for (const name of ['query-service', 'query-service-2'] as const)
          e.services[name] = {
            ...e.services[name]!,
            env: { ...e.services[name]!.env, STAMPEDE_LOCK_WAIT_MS: '0' },
          };
      },
      'singleflight and soft-ttl: no wait for the lock ran out into a DB load',
    );
    expect(r.audit!.figures.singleflightDbLoads).to.be.greaterThan(r.audit!.figures.keyExpiries);
  });

  // Its fault steps removed and its keys not expired (the `counterfactual:` block): the expiry under concurrent
  // readers is the stampede's cause, the slow DB only widens it (seed 42 without the toxic alone: 27.7 per key).
  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-008',
      SEEDS[0],
      'probe "none: ≫ 1 DB load per key per expiry (MariaDB)"',
    );
  });
});
