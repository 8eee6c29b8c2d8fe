import { expect } from 'chai';
import { loadConfig } from '../../src/lib/config';
import { sleep, waitFor } from '../../src/lib/wait';
import { clusterNodes, withNode } from '../../src/runtime/components/redis-cluster';
import { silentProgress } from '../../src/runtime/progress';
import { downRedisCluster } from '../../src/runtime/redis-cluster-up';
import { prometheusClient, supervisorFor, up } from '../../src/runtime/stack';
import { ensureLab } from '../support/lab';
import {
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-014 reads through a Redis Cluster resharding, both ways', function () {
  this.timeout(600_000);
  // CI's context (issue #26: seed 11 after E-013, one MOVED short), made certain: the first run creates the cluster
  // anew just after one whose node 1 counted a redirect, a count still inside the probe's look-back. The nodes'
  // count must be the new cluster's own, not the new minus the old.
  before(async () => {
    const c = await ensureLab();
    // Created fresh, so that node 1's count is that one MOVED (a larger one would show the next cluster's as a drop).
    await downRedisCluster(c, supervisorFor(c));
    await up(c, silentProgress, { redis: 'cluster' });
    const node1 = clusterNodes(c)[0];
    // 'foo' hashes to slot 12182, which node 1 does not serve: it answers MOVED and counts it.
    const reply = await withNode(c, node1.nodePort, (r) => r.get('foo').catch((e: Error) => e));
    expect(String(reply)).to.match(/\bMOVED 12182\b/);
    // Until the count the probe reads (recorded per process, up to 1 s after the scrape) holds it, and 1 s more: the
    // probe reads 1 s steps, so a sample in the run's first second would count as the run's (E-014's real predecessor
    // counted its last redirects seconds before its clean-up, never within a second of the next run's start).
    const prom = prometheusClient(c);
    await waitFor(
      'Prometheus to record the MOVED counted by redis-cluster-1',
      async () =>
        ((await prom.scalar(
          `sum(redis_process_errors_total{job="redis-cluster",node="${node1.name}",err="MOVED"})`,
        )) ?? 0) > 0,
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    await sleep(1000);
    await downRedisCluster(c, supervisorFor(c));
  });
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

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-014',
      SEEDS[0],
      'probe "❌ reads failed on the redirects the client did not follow"',
    );
  });
});
