import { expect } from 'chai';
import type { ScrapeState } from '../../src/lib/prometheus';
import { settleScrapes } from '../../src/experiments/settle';

/** A Prometheus whose targets are scraped, and rule groups evaluated, at the times the test gives (fake clock). */
function prometheusAt(state: (nowMs: number) => ScrapeState | Error) {
  let now = 1_000_000;
  const polledAt: number[] = [];
  return {
    polledAt,
    deps: {
      clock: { now: () => now, sleep: async (ms: number) => void (now += ms) },
      prometheus: {
        scrapeState: async () => {
          polledAt.push(now);
          const s = state(now);
          if (s instanceof Error) throw s;
          return s;
        },
      },
    },
  };
}

describe('settling after a run (Prometheus holds its final values)', () => {
  const end = 1_000_000;

  it('waits for every target to be scraped after the end, then for every rule group to be evaluated after that', async () => {
    // kafka is scraped every 5 s (next at +3 s), the services every second; rules evaluated every second
    const p = prometheusAt((now) => ({
      targets: [
        { target: 'kafka/1', lastScrapeMs: now - ((now - end + 2000) % 5000) },
        { target: 'lab-services/consumer', lastScrapeMs: now - (now % 1000) },
      ],
      ruleGroups: [{ group: 'lab-pipeline', lastEvaluationMs: now - ((now + 500) % 1000) }],
    }));
    const r = await settleScrapes(p.deps, end, { timeoutMs: 15_000, minMs: 0 });
    expect(r.notCaughtUp).to.deep.equal([]);
    expect(r.waitedMs, 'kafka scraped at +3 s, rules evaluated at +3.5 s').to.equal(3600);
  });

  it('returns at once when everything is already past the end', async () => {
    const p = prometheusAt((now) => ({
      targets: [{ target: 'redis/1', lastScrapeMs: now }],
      ruleGroups: [{ group: 'lab-cache-db', lastEvaluationMs: now + 1 }],
    }));
    const r = await settleScrapes(p.deps, end, { timeoutMs: 15_000, minMs: 0 });
    expect(r).to.deep.equal({ waitedMs: 0, notCaughtUp: [] });
  });

  it('still waits its floor when everything caught up at once', async () => {
    const p = prometheusAt((now) => ({
      targets: [{ target: 'redis/1', lastScrapeMs: now }],
      ruleGroups: [{ group: 'lab-redis-cluster', lastEvaluationMs: now + 1 }],
    }));
    const r = await settleScrapes(p.deps, end, { timeoutMs: 15_000, minMs: 8000 });
    expect(r).to.deep.equal({ waitedMs: 8000, notCaughtUp: [] });
  });

  it('names the target that was never scraped again once its bound ran out', async () => {
    const p = prometheusAt((now) => ({
      targets: [
        { target: 'kafka/2', lastScrapeMs: end - 1 },
        { target: 'redis/1', lastScrapeMs: now },
      ],
      ruleGroups: [{ group: 'lab-kafka', lastEvaluationMs: now }],
    }));
    const r = await settleScrapes(p.deps, end, { timeoutMs: 2000, minMs: 0 });
    expect(r.notCaughtUp).to.deep.equal(['target kafka/2']);
    expect(r.waitedMs).to.equal(2000);
  });

  it('names the rule group that was not evaluated after the scrapes', async () => {
    const p = prometheusAt((now) => ({
      targets: [{ target: 'redis/1', lastScrapeMs: now }],
      ruleGroups: [{ group: 'lab-stuck', lastEvaluationMs: end - 5000 }],
    }));
    const r = await settleScrapes(p.deps, end, { timeoutMs: 1000, minMs: 0 });
    expect(r.notCaughtUp).to.deep.equal(['rule group lab-stuck']);
  });

  it('reports a Prometheus that does not answer, after its bound, instead of calling the run settled', async () => {
    const p = prometheusAt(() => new Error('connect ECONNREFUSED 127.0.0.1:19090'));
    const r = await settleScrapes(p.deps, end, { timeoutMs: 1000, minMs: 0 });
    expect(r.error).to.equal('connect ECONNREFUSED 127.0.0.1:19090');
    expect(r.waitedMs).to.equal(1000);
    expect(p.polledAt.length, 'polled through the bound').to.be.greaterThan(3);
  });
});
