import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { LabConfig } from '../../src/lib/config';
import { labKafka } from '../../src/lib/kafka';
import { ensureTopics } from '../../src/lib/topics';
import { sleep, waitFor } from '../../src/lib/wait';
import { evaluateProbes } from '../../src/experiments/verdict';
import { emptyFacts } from '../../src/experiments/facts';
import { ProbeSchema } from '../../src/experiments/schema';
import { prometheusClient } from '../../src/runtime/stack';
import { ensureLab } from '../support/lab';

/**
 * `baseline: run-start` against a real JVM-lifetime counter (the brokers' per-topic MessagesInPerSec): two "runs"
 * write to the same topic, and each one's probe counts its own messages only — where the bare `max_over_time`
 * would hand the second run the first one's messages too (E-009's NOT_ENOUGH_REPLICAS counter had that problem).
 */
describe('probes over lifetime counters', function () {
  this.timeout(120_000);
  let c: LabConfig;
  before(async () => {
    c = await ensureLab();
  });

  it('count the second run\u2019s own messages when the probe counts the rise since the run start', async () => {
    const topic = `lab.test.baseline.${randomBytes(3).toString('hex')}`;
    const kafka = labKafka(c, 'baseline-test');
    await ensureTopics(kafka, [topic]);
    const prom = prometheusClient(c);
    const query = `sum(max_over_time(kafka_server_brokertopicmetrics_messagesin_total{topic="${topic}"}[$WINDOW]))`;
    const bareProbe = ProbeSchema.parse({
      name: 'messages in',
      type: 'promql',
      query,
      tolerance: { ge: 0 },
    });
    const ownProbe = ProbeSchema.parse({
      name: 'this run',
      type: 'promql',
      query: `kafka_server_brokertopicmetrics_messagesin_total{topic="${topic}"}`,
      tolerance: { ge: 0 },
      baseline: 'run-start',
    });
    const producer = kafka.producer();
    await producer.connect();
    const scraped = (total: number) =>
      waitFor(
        `Prometheus to see ${total} messages in ${topic}`,
        async () => (await prom.scalar(query.replace('[$WINDOW]', '[5m]'))) === total,
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    try {
      const send = (n: number) =>
        producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: n }, (_, i) => ({ value: String(i) })),
        });
      await send(7);
      await scraped(7);
      // The second run: 5 more messages on the same brokers, whose counter still holds the first run's 7.
      await sleep(1500);
      const startSec = Date.now() / 1000;
      await send(5);
      await scraped(12);
      const endSec = Date.now() / 1000;
      const ctx = {
        runId: 'baseline-test',
        windowSec: endSec - startSec + 60,
        startSec,
        endSec,
        audit: {},
        facts: emptyFacts(),
      };
      await sleep(2000); // the range query's last point is the scrape after the last send
      const [bare, own] = await evaluateProbes([bareProbe, ownProbe], prom, {
        ...ctx,
        endSec: Date.now() / 1000,
      });
      expect(
        bare.observed,
        'without a baseline the lifetime counter carries the first run',
      ).to.equal(12);
      expect(own).to.deep.include({ observed: 5, baseline: 7 });
    } finally {
      await producer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined); // a scratch topic; the next run makes its own
      await admin.disconnect();
    }
  });
});
