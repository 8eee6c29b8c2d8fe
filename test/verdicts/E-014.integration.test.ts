import { expect } from 'chai';
import { loadConfig } from '../../src/lib/config';
import { downRedisCluster } from '../../src/runtime/redis-cluster-up';
import { supervisorFor } from '../../src/runtime/stack';
import { expectSabotageCaught, runBothWays, SEEDS } from './support';

describe('E-014 reads through a Redis Cluster resharding, both ways', function () {
  this.timeout(600_000);
  // The engine brought the 6-node cluster up for the runs; the suites after this one do not need it.
  after(async () => {
    const c = loadConfig();
    await downRedisCluster(c, supervisorFor(c));
  });

  for (const seed of SEEDS) {
    it(`fails reads on every MOVED/ASK a client does not follow, listed by key, and none with a client that follows them (seed ${seed})`, async () => {
      const { antiPattern: pinned, pattern: following } = await runBothWays('E-014', seed);
      const p = pinned.audit!.figures;
      expect(p.slotsMoved).to.be.greaterThan(0);
      expect(p.failedReads).to.be.greaterThan(0);
      expect(p.movedErrors + p.askErrors, 'every failure a redirect').to.equal(p.failedReads);
      expect(p.wrongAnswers).to.equal(0);
      const failures = (pinned.audit!.data as { failures: { productId: number; slot: number }[] })
        .failures;
      expect(failures).to.have.length(p.failedReads);
      const f = following.audit!.figures;
      expect(f.reads).to.be.greaterThan(0);
      expect(f.failedReads).to.equal(0);
      expect(f.wrongAnswers).to.equal(0);
    });
  }

  it('catches the pattern side sabotaged: redirects switched off behind its back deviates', async () => {
    const r = await expectSabotageCaught(
      'E-014',
      SEEDS[0],
      (e) => {
        if (e.workload.kind === 'redis-cluster-reshard') e.workload.client = 'no-redirects';
      },
      '✅ no read failed',
    );
    expect(r.audit!.figures.failedReads).to.be.greaterThan(0);
  });
});
