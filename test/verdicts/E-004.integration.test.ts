import { expect } from 'chai';
import { expectOutcome, runById, SEEDS } from './support';

describe('E-004 commit-first consumer + crash', function () {
  this.timeout(240_000);
  for (const seed of SEEDS) {
    it(`never applies the events whose offsets were committed before the crash (seed ${seed})`, async () => {
      const r = await runById('E-004', seed);
      expectOutcome(r, 'completed');
      const a = r.audit!;
      expect(a.figures.notApplied).to.equal(r.facts.crashes).and.to.be.greaterThan(0);
      expect(a.figures.lostBeforeTopic).to.equal(0); // present in the topic, yet never applied
    });
  }
});
