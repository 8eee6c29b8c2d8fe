import { expect } from 'chai';
import {
  expectAlerting,
  expectCounterfactualNotReproduced,
  expectOutcome,
  expectSabotageCaught,
  runPair,
  SEEDS,
  sideOf,
} from './support';

describe('E-006 schema evolution through the schema registry, both orders', function () {
  // ~60 s a side on a quiet machine; several minutes on a 2-core box shared with other labs.
  this.timeout(840_000);
  for (const seed of SEEDS) {
    it(`fails every event written with the breaking schema producer-first, and none consumer-first behind BACKWARD (seed ${seed})`, async () => {
      const pair = await runPair('E-006', seed);
      const producerFirst = sideOf(pair, 'anti-pattern');
      const consumerFirst = sideOf(pair, 'pattern');
      expectOutcome(producerFirst, 'completed');
      expectOutcome(consumerFirst, 'completed');
      expect(pair.scheduleDifferences, 'the same commands and deploys on both sides').to.deep.equal(
        [],
      );
      expect(
        pair.comparisons
          .filter((c) => !c.ok)
          .map((c) => `${c.name}: ${c.pattern} vs ${c.antiPattern}`),
        'the bounds taken from the producer-first side',
      ).to.deep.equal([]);
      expect(pair.outcome).to.equal('completed');
      expectAlerting(producerFirst, consumerFirst);

      const f = producerFirst.audit!.figures;
      expect(f.dlqRecords, 'events in the DLQ').to.be.greaterThan(0);
      // Every committed event was either applied (written with v1) or written with v2-breaking — never both, never neither.
      const breaking = producerFirst.probes.find((p) =>
        p.name.startsWith('every record the relay wrote with v2-breaking'),
      )!.observed!;
      expect(f.applied + breaking, 'applied + written with v2-breaking').to.equal(f.committed);
      expect(f.notApplied).to.equal(0);
      expect(producerFirst.facts.schemaRejected).to.equal(0);
      expect(
        producerFirst.timeline.some((t) => /register v2-breaking .* HTTP 200/.test(t.what)),
        'NONE accepted the breaking schema',
      ).to.equal(true);

      expect(consumerFirst.expected).to.equal('controlled');
      expect(consumerFirst.facts.schemaRejected).to.equal(1);
      expect(
        consumerFirst.timeline.some((t) => /register v2-breaking .* HTTP 409/.test(t.what)),
        'BACKWARD refused the breaking schema',
      ).to.equal(true);
      const g = consumerFirst.audit!.figures;
      expect(g.dlqRecords).to.equal(0);
      expect(g.applied).to.equal(g.committed);
    });
  }

  it('catches the consumer-first side sabotaged: compatibility NONE behind its back lets the breaking schema in', async () => {
    await expectSabotageCaught(
      'E-006',
      SEEDS[0],
      (e) => {
        const step = e.method.find((s) => s.fault.type === 'registry-set-compatibility');
        if (!step || step.fault.type !== 'registry-set-compatibility')
          throw new Error('E-006 has no compatibility step');
        step.fault.level = 'NONE';
      },
      'the registry answered 409 to v2-breaking as often as this order expects (Prometheus)',
    );
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-006',
      SEEDS[0],
      'probe "events the consumer could not deserialize, in the DLQ"',
    );
  });
});
