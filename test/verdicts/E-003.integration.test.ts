import { expect } from 'chai';
import { expectOutcome, runById, SEEDS } from './support';

describe('E-003 naive consumer + redelivery', function () {
  this.timeout(240_000);
  for (const seed of SEEDS) {
    it(`performs the side effect twice for every redelivered message (seed ${seed})`, async () => {
      const r = await runById('E-003', seed);
      expectOutcome(r, 'completed');
      expect(r.facts.crashes).to.equal(3);
      expect(r.audit!.figures.duplicateEffects).to.equal(r.facts.crashes);
    });
  }

  it('performs no duplicate side effect with the same timeline in idempotent mode', async () => {
    const r = await runById('E-003', SEEDS[0], { LAB_E003_CONSUMER_MODE: 'idempotent' });
    // The file's hypothesis promises duplicates; with processed_event there are none, so it deviates.
    expectOutcome(r, 'deviated');
    expect(r.facts.crashes).to.equal(3);
    expect(r.audit!.figures.duplicateEffects).to.equal(0);
    expect(r.audit!.figures.applied).to.equal(r.audit!.figures.committed);
  });
});
