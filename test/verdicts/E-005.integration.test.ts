import { expect } from 'chai';
import {
  consumerMode,
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-005 retry → DLQ → replay, both ways', function () {
  this.timeout(480_000);
  for (const seed of SEEDS) {
    it(`routes poison messages to the DLQ and applies each replayed event once with dedup, once per replay without it (seed ${seed})`, async () => {
      const { antiPattern: naive, pattern: dedup } = await runBothWays('E-005', seed);
      for (const run of [dedup, naive]) {
        expect(run.facts.replays).to.equal(2);
        expect(run.audit!.figures.dlqRecords).to.be.greaterThan(0);
        expect(run.audit!.figures.applied).to.equal(run.audit!.figures.committed);
      }
      expect(dedup.audit!.figures.duplicateEffects).to.equal(0);
      expect(naive.audit!.figures.duplicateEffects, 'the second replay, applied again').to.equal(
        naive.audit!.figures.dlqRecords,
      );
    });
  }

  it('catches the pattern side sabotaged: the consumer the replays reach has no dedup', async () => {
    const r = await expectSabotageCaught(
      'E-005',
      SEEDS[0],
      consumerMode('naive'),
      '✅ replaying twice applied nothing twice',
    );
    expect(r.audit!.figures.duplicateEffects).to.be.greaterThan(0);
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-005',
      SEEDS[0],
      'probe "❌ the second replay applied every dead-lettered event again"',
    );
  });
});
