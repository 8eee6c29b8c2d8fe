import { expect } from 'chai';
import { expectOutcome, runById, SEEDS } from './support';

describe('E-007 Kafka transactions and the LSO', function () {
  this.timeout(240_000);
  for (const seed of SEEDS) {
    it(`keeps read_committed at the LSO and away from the aborted transaction, while read_uncommitted applies it (seed ${seed})`, async () => {
      const r = await runById('E-007', seed);
      expectOutcome(r, 'completed');
      const f = r.audit!.figures;
      expect(
        f.hwMinusLsoWhileOpen,
        "HW − LSO while open = the open transaction's records",
      ).to.equal(f.openEvents);
      expect(f.visibleCommittedWhileOpen).to.equal(0);
      expect(f.uncommittedSeenWhileOpen).to.equal(f.openEvents);
      expect(f.appliedReadCommitted).to.equal(f.committedEvents);
      expect(f.abortedVisibleToReadCommitted).to.equal(0);
      expect(f.abortedVisibleToReadUncommitted, 'effects of events that never happened').to.equal(
        f.abortedEvents,
      );
      expect(f.appliedReadUncommitted).to.equal(f.committedEvents + f.abortedEvents);
      expect(f.hwMinusLsoAfterAbort, 'LSO reached HW once the abort ended').to.equal(0);
      expect(f.hwMinusLsoAfterEnd, 'LSO reached HW once the held transaction ended').to.equal(0);
    });
  }
});
