import { expect } from 'chai';
import { expectOutcome, runById, SEEDS } from './support';

describe('E-002 direct produce + crash after commit', function () {
  this.timeout(240_000);
  for (const seed of SEEDS) {
    it(`loses exactly one committed event per crash, and names them (seed ${seed})`, async () => {
      const r = await runById('E-002', seed);
      expectOutcome(r, 'completed');
      const a = r.audit!;
      expect(r.facts.crashes).to.equal(3);
      expect(a.figures.lostBeforeTopic).to.equal(r.facts.crashes);
      expect(a.ids.lostBeforeTopic).to.have.length(r.facts.crashes);
      expect(a.figures.committed).to.equal(a.figures.published + a.figures.lostBeforeTopic);
    });
  }
});
