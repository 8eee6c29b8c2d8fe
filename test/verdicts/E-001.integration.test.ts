import { expect } from 'chai';
import {
  consumerMode,
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-001 outbox + relay + idempotent consumer + cache invalidation, both ways', function () {
  this.timeout(480_000);
  for (const seed of SEEDS) {
    it(`loses nothing and applies nothing twice although the relay crash duplicated records, and applies each duplicate twice without processed_event (seed ${seed})`, async () => {
      const { antiPattern: naive, pattern: idempotent } = await runBothWays('E-001', seed);
      const a = idempotent.audit!.figures;
      expect(idempotent.facts.crashes).to.equal(1);
      expect(a.lostBeforeTopic).to.equal(0);
      expect(a.topicDuplicates).to.be.greaterThan(0);
      expect(a.duplicateEffects).to.equal(0);
      expect(a.applied).to.equal(a.committed);
      expect(a.staleReads).to.equal(0);
      const n = naive.audit!.figures;
      expect(naive.facts.crashes).to.equal(1);
      expect(n.topicDuplicates).to.be.greaterThan(0);
      expect(n.duplicateEffects, 'one extra side effect per duplicate record').to.equal(
        n.topicDuplicates,
      );
      expect(n.applied).to.equal(n.committed);
    });
  }

  it('catches the pattern side sabotaged: processed_event switched off behind its back deviates', async () => {
    const r = await expectSabotageCaught(
      'E-001',
      SEEDS[0],
      consumerMode('naive'),
      '✅ no side effect performed twice',
    );
    expect(r.audit!.figures.duplicateEffects).to.be.greaterThan(0);
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-001',
      SEEDS[0],
      'probe "the relay crash really duplicated records in the topic"',
    );
  });
});
