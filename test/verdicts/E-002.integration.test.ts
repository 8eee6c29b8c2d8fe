import { expect } from 'chai';
import {
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-002 a crash right after the DB commit, both ways', function () {
  this.timeout(360_000);
  for (const seed of SEEDS) {
    it(`loses one committed event per crash with direct produce, and none with the outbox under the same crashes (seed ${seed})`, async () => {
      const { antiPattern: direct, pattern: outbox } = await runBothWays('E-002', seed);

      expect(direct.facts.crashes).to.equal(3);
      const lost = direct.audit!;
      expect(lost.figures.lostBeforeTopic).to.equal(direct.facts.crashes);
      expect(lost.ids.lostBeforeTopic).to.have.length(direct.facts.crashes);
      expect(lost.figures.committed).to.equal(
        lost.figures.published + lost.figures.lostBeforeTopic,
      );

      expect(outbox.facts.crashes, 'the same crashes on the outbox side').to.equal(3);
      expect(outbox.facts.failpointsFired).to.equal(direct.facts.failpointsFired);
      const kept = outbox.audit!;
      expect(kept.figures.lostBeforeTopic).to.equal(0);
      expect(kept.ids.lostBeforeTopic).to.deep.equal([]);
      expect(kept.figures.applied).to.equal(kept.figures.committed);
    });
  }

  it('catches the pattern side sabotaged: the outbox switched off (direct mode) under the same crashes deviates', async () => {
    const r = await expectSabotageCaught(
      'E-002',
      SEEDS[0],
      (e) => {
        e.services['command-service']!.modes.COMMAND_MODE = 'direct';
      },
      '✅ no committed event lost (audit)',
    );
    expect(r.audit!.figures.lostBeforeTopic).to.equal(r.facts.crashes);
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-002',
      SEEDS[0],
      'probe "❌ some events really lost"',
    );
  });
});
