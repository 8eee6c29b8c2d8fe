import { expect } from 'chai';
import {
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-010 stale cache: the DEL race and the lost invalidation, both ways', function () {
  this.timeout(420_000);
  for (const seed of SEEDS) {
    it(`leaves one product stale per hold and per crash with DEL and direct produce, and none with versioned fills and the outbox (seed ${seed})`, async () => {
      const { antiPattern: del, pattern: versioned } = await runBothWays('E-010', seed);

      const stale = del.audit!;
      expect(del.facts.failpointsFired).to.equal(stale.figures.rounds);
      expect(stale.figures.racesOpened).to.equal(stale.figures.raceRounds);
      expect(stale.figures.staleByRace).to.equal(stale.figures.raceRounds);
      expect(stale.figures.staleByLostInvalidation).to.equal(del.facts.crashes);
      expect(stale.ids.staleReads, 'every stale product listed').to.have.length(
        stale.figures.staleProducts,
      );
      for (const read of stale.ids.staleReads) expect(read.served).to.be.below(read.committed);
      expect(stale.figures.maxStaleServedMs).to.be.at.most(stale.figures.ttlBoundMs);
      // A stale value lives until its (jittered) TTL ends: far longer than propagation, which is milliseconds.
      expect(stale.figures.maxStaleServedMs, 'served stale until near its expiry').to.be.above(
        stale.figures.ttlBoundMs / 2,
      );

      const fresh = versioned.audit!;
      expect(versioned.facts.failpointsFired, 'the same holds and crashes').to.equal(
        del.facts.failpointsFired,
      );
      expect(fresh.figures.racesOpened).to.equal(fresh.figures.raceRounds);
      expect(fresh.figures.staleProducts).to.equal(0);
      expect(fresh.figures.staleAnswers).to.equal(0);
      expect(fresh.ids.staleReads).to.deep.equal([]);
    });
  }

  it('catches the pattern side sabotaged: DEL invalidation under the same holds serves stale values and deviates', async () => {
    const r = await expectSabotageCaught(
      'E-010',
      SEEDS[0],
      (e) => {
        e.services['query-service']!.modes.CACHE_INVALIDATION = 'del';
      },
      '✅ no product served stale (audit)',
    );
    expect(r.audit!.figures.staleByRace).to.equal(r.audit!.figures.raceRounds);
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-010',
      SEEDS[0],
      'probe "❌ some products really served stale"',
    );
  });
});
