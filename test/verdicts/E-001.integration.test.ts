import { expect } from 'chai';
import { expectOutcome, runById, SEEDS } from './support';

describe('E-001 outbox + relay + idempotent consumer + cache invalidation', function () {
  this.timeout(240_000);
  for (const seed of SEEDS) {
    it(`loses nothing and applies nothing twice although the relay crash duplicated records (seed ${seed})`, async () => {
      const r = await runById('E-001', seed);
      expectOutcome(r, 'completed');
      const a = r.audit!.figures;
      expect(a.lostBeforeTopic).to.equal(0);
      expect(a.topicDuplicates).to.be.greaterThan(0);
      expect(a.duplicateEffects).to.equal(0);
      expect(a.applied).to.equal(a.committed);
      expect(a.staleReads).to.equal(0);
      expect(r.facts.crashes).to.be.at.least(1);
    });
  }
});
