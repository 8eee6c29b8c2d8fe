import { expect } from 'chai';
import {
  consumerMode,
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-003 a consumer crash between side effect and offset commit, both ways', function () {
  this.timeout(480_000);
  for (const seed of SEEDS) {
    it(`performs the side effect twice per redelivery without processed_event, once with it, under the same crashes (seed ${seed})`, async () => {
      const { antiPattern: naive, pattern: idempotent } = await runBothWays('E-003', seed);
      expect(naive.facts.crashes).to.equal(3);
      expect(naive.audit!.figures.duplicateEffects).to.equal(naive.facts.crashes);
      expect(idempotent.facts.crashes).to.equal(3);
      expect(idempotent.audit!.figures.duplicateEffects).to.equal(0);
      expect(idempotent.audit!.figures.applied).to.equal(idempotent.audit!.figures.committed);
    });
  }

  it('catches the pattern side sabotaged: processed_event switched off (naive mode) under the same crashes deviates', async () => {
    const r = await expectSabotageCaught(
      'E-003',
      SEEDS[0],
      consumerMode('naive'),
      '✅ no duplicate side effect (audit)',
    );
    expect(r.audit!.figures.duplicateEffects).to.be.greaterThan(0);
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-003',
      SEEDS[0],
      'probe "❌ duplicates really happened"',
    );
  });
});
