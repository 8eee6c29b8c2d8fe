import { expect } from 'chai';
import { expectOutcome, runById, SEEDS } from './support';

describe('E-005 retry → DLQ → replay', function () {
  this.timeout(240_000);
  for (const seed of SEEDS) {
    it(`routes poison messages to the DLQ and applies each replayed event once, even replayed twice (seed ${seed})`, async () => {
      const r = await runById('E-005', seed);
      expectOutcome(r, 'completed');
      const a = r.audit!.figures;
      expect(a.dlqRecords).to.be.greaterThan(0);
      expect(a.applied).to.equal(a.committed);
      expect(a.duplicateEffects).to.equal(0);
      expect(r.facts.replays).to.equal(2);
    });
  }
});
