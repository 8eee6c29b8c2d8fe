import { expect } from 'chai';
import {
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-007 Kafka transactions and the LSO, both ways', function () {
  this.timeout(480_000);
  for (const seed of SEEDS) {
    it(`keeps read_committed at the LSO and away from the aborted transaction, while read_uncommitted reads past it and applies it (seed ${seed})`, async () => {
      const { antiPattern: uncommitted, pattern: committed } = await runBothWays('E-007', seed);
      for (const run of [committed, uncommitted]) {
        const f = run.audit!.figures;
        expect(
          f.hwMinusLsoWhileOpen,
          "HW − LSO while open = the open transaction's records",
        ).to.equal(f.openEvents);
        expect(f.hwMinusLsoAfterAbort, 'LSO reached HW once the abort ended').to.equal(0);
        expect(f.hwMinusLsoAfterEnd, 'LSO reached HW once the held transaction ended').to.equal(0);
        expect(f.committedMissing).to.equal(0);
      }
      const rc = committed.audit!.figures;
      expect(rc.receivedPastLsoWhileOpen).to.equal(0);
      expect(rc.appliedEvents).to.equal(rc.committedEvents);
      expect(rc.abortedApplied).to.equal(0);
      const ru = uncommitted.audit!.figures;
      expect(ru.receivedPastLsoWhileOpen).to.equal(ru.openEvents);
      expect(ru.abortedApplied, 'effects of events that never happened').to.equal(ru.abortedEvents);
      expect(ru.appliedEvents).to.equal(ru.committedEvents + ru.abortedEvents);
    });
  }

  it('catches the pattern side sabotaged: read_committed switched off behind its back deviates', async () => {
    const r = await expectSabotageCaught(
      'E-007',
      SEEDS[0],
      (e) => {
        if (e.workload.kind === 'transactions') e.workload.isolation = 'read_uncommitted';
      },
      '✅ read_committed applied no event of the aborted transaction',
    );
    expect(r.audit!.figures.abortedApplied).to.be.greaterThan(0);
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-007',
      SEEDS[0],
      'probe "❌ read_uncommitted received every open record before the commit"',
    );
  });
});
