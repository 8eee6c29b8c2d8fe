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

interface Round {
  key: string;
  trusted: boolean;
  survived: boolean;
  grantedAgain: boolean;
  dbLoads: number;
}
const roundsOf = (data: unknown) => (data as { rounds: Round[] }).rounds;

describe('E-013 an acknowledged lock across a Redis Cluster failover, both ways', function () {
  this.timeout(600_000);
  // The engine brought the 6-node cluster up for the runs; the suites after this one do not need it.
  after(async () => {
    const c = loadConfig();
    await downRedisCluster(c, supervisorFor(c));
  });

  for (const seed of SEEDS) {
    it(`loses every lock the master acknowledged and grants it twice when the OK is trusted, and loads nothing twice behind WAIT 1 (seed ${seed})`, async () => {
      const { antiPattern: trusting, pattern: waiting } = await runBothWays('E-013', seed);
      const t = trusting.audit!.figures;
      expect(t.rounds).to.be.greaterThan(0);
      expect(t.failovers).to.equal(t.rounds);
      expect(t.trustedWritesLost).to.equal(t.rounds);
      expect(t.locksGrantedTwice).to.equal(t.rounds);
      expect(t.dbLoads, 'two loads per round').to.equal(2 * t.rounds);
      // Each lost lock is listed by key, and each of those rounds loaded its product twice.
      const lost = roundsOf(trusting.audit!.data).filter((r) => r.trusted && !r.survived);
      expect(lost).to.have.length(t.rounds);
      for (const r of lost) expect(r.dbLoads, r.key).to.equal(2);
      const w = waiting.audit!.figures;
      expect(w.rounds, 'the same rounds').to.equal(t.rounds);
      expect(w.writesLost, 'WAIT does not undo the write').to.equal(w.rounds);
      expect(w.refusedByWait).to.equal(w.rounds);
      expect(w.trustedWritesLost).to.equal(0);
      expect(w.productsLoadedTwice).to.equal(0);
      expect(w.dbLoads, 'one load per round').to.equal(w.rounds);
    });
  }

  it('catches the pattern side sabotaged: WAIT dropped behind its back deviates', async () => {
    const r = await expectSabotageCaught(
      'E-013',
      SEEDS[0],
      (e) => {
        if (e.workload.kind === 'redis-cluster-failover') e.workload.replicaAck = 'none';
      },
      '✅ no trusted lock was lost',
    );
    expect(r.audit!.figures.trustedWritesLost).to.be.greaterThan(0);
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-013',
      SEEDS[0],
      'probe "❌ every acknowledged lock was gone after the failover, and the writer had trusted it"',
    );
  });
});
