import { expect } from 'chai';
import {
  consumerMode,
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-004 a consumer crash between receiving a message and processing it, both ways', function () {
  this.timeout(480_000);
  for (const seed of SEEDS) {
    it(`never applies the events commit-first committed before the crash, and loses none processing first (seed ${seed})`, async () => {
      const { antiPattern: commitFirst, pattern: processFirst } = await runBothWays('E-004', seed);
      const a = commitFirst.audit!;
      expect(a.figures.notApplied).to.equal(commitFirst.facts.crashes).and.to.be.greaterThan(0);
      expect(a.figures.lostBeforeTopic).to.equal(0); // present in the topic, yet never applied
      expect(processFirst.facts.crashes).to.equal(commitFirst.facts.crashes);
      const b = processFirst.audit!;
      expect(b.figures.notApplied).to.equal(0);
      expect(b.figures.duplicateEffects).to.equal(0);
      expect(b.figures.applied).to.equal(b.figures.committed);
    });
  }

  it('catches the pattern side sabotaged: commit-first behind its back under the same crashes deviates', async () => {
    const r = await expectSabotageCaught(
      'E-004',
      SEEDS[0],
      consumerMode('commit-first'),
      '✅ no event left unapplied (audit)',
    );
    expect(r.audit!.figures.notApplied).to.be.greaterThan(0);
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-004',
      SEEDS[0],
      'probe "❌ events really lost downstream"',
    );
  });
});
