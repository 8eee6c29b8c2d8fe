import { expect } from 'chai';
import { loadConfig } from '../../src/lib/config';
import { downRedisCluster } from '../../src/runtime/redis-cluster-up';
import { supervisorFor } from '../../src/runtime/stack';
import {
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-012 multi-key operations on a Redis Cluster, both ways', function () {
  this.timeout(300_000);
  // The engine brought the 6-node cluster up for the runs; the suites after this one do not need it.
  after(async () => {
    const c = loadConfig();
    await downRedisCluster(c, supervisorFor(c));
  });

  for (const seed of SEEDS) {
    it(`refuses every multi-key operation over separately hashed keys with CROSSSLOT, listed by key, and none with hash tags (seed ${seed})`, async () => {
      const { antiPattern: separate, pattern: tagged } = await runBothWays('E-012', seed);
      const s = separate.audit!.figures;
      expect(s.operations).to.be.greaterThan(0);
      expect(s.crossSlotErrors).to.equal(s.operations);
      expect(s.msetCrossSlot + s.mgetCrossSlot + s.evalCrossSlot, 'counted per command').to.equal(
        s.crossSlotErrors,
      );
      expect(s.otherErrors).to.equal(0);
      expect(s.productsSpanningSlots).to.equal(s.products);
      // Every failed operation is listed with its keys and their slots, and the slots do differ.
      const failures = (separate.audit!.data as { failures: { keys: string[]; slots: number[] }[] })
        .failures;
      expect(failures).to.have.length(s.failed);
      for (const f of failures) expect(new Set(f.slots).size, f.keys.join(' ')).to.equal(2);
      const t = tagged.audit!.figures;
      expect(t.operations, 'the same seeded operations').to.equal(s.operations);
      expect(t.failed).to.equal(0);
      expect(t.productsSpanningSlots).to.equal(0);
    });
  }

  it('catches the pattern side sabotaged: the hash tags dropped behind its back deviates', async () => {
    const r = await expectSabotageCaught(
      'E-012',
      SEEDS[0],
      (e) => {
        if (e.workload.kind === 'redis-cluster-multikey') e.workload.keyLayout = 'separate';
      },
      '✅ no operation failed',
    );
    expect(r.audit!.figures.crossSlotErrors).to.be.greaterThan(0);
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-012',
      SEEDS[0],
      'probe "❌ every multi-key operation was refused with CROSSSLOT"',
    );
  });
});
