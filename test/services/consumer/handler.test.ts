import { expect } from 'chai';
import type { KafkaMessage } from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import { Registry } from 'prom-client';
import { LabError } from '../../../src/lib/errors';
import { loadConsumerConfig } from '../../../src/services/consumer/config';
import {
  consumerMetrics,
  dlqRecord,
  ProductHandler,
  type ConsumerDeps,
} from '../../../src/services/consumer/consumer';

const message = (offset: string): KafkaMessage =>
  ({ key: Buffer.from('7'), value: Buffer.from('{}'), offset, headers: {} }) as KafkaMessage;

/** A handler over fakes: no broker, no DB. Returns what it sent to the DLQ, committed and hit. */
function fakeHandler(env: NodeJS.ProcessEnv = {}) {
  const sent: unknown[] = [];
  const committed: unknown[] = [];
  const hits: string[] = [];
  const m = consumerMetrics(new Registry());
  const deps: ConsumerDeps = {
    cfg: loadConsumerConfig({ CONSUMER_MAX_ATTEMPTS: '2', CONSUMER_RETRY_BACKOFF_MS: '1', ...env }),
    pool: {} as Pool,
    consumer: { commitOffsets: async (o) => void committed.push(...o) },
    dlqProducer: { send: async (r) => (sent.push(r), []) },
    failpoints: { hit: async (fp: string) => void hits.push(fp) },
    log: { warn: () => {} },
    m,
    decode: () => ({}) as never,
  };
  return { handler: new ProductHandler(deps), sent, committed, hits, m, cfg: deps.cfg };
}

describe('consumer-service’s handler', () => {
  it('builds a DLQ record with where the message came from, why, and its dedup key', () => {
    const r = dlqRecord({ topic: 't', partition: 2, message: message('41') }, new Error('x'), 3);
    expect(r.dedupKey).to.equal('t/2/41');
    expect(r.message.headers).to.include({
      'original-topic': 't',
      'original-partition': '2',
      'original-offset': '41',
      error: 'x',
      attempts: '3',
      'dedup-key': 't/2/41',
    });
  });

  it('commits the offset after the message', async () => {
    const { handler, committed } = fakeHandler();
    await handler.commit('t', 0, '9');
    expect(committed).to.deep.equal([{ topic: 't', partition: 0, offset: '10' }]);
  });

  it('retries a retriable error up to its attempts, then dead-letters it', async () => {
    const { handler, sent, m } = fakeHandler();
    let tries = 0;
    const d = { topic: 't', partition: 0, message: message('5') };
    const out = await handler.withRetry(d, async () => {
      tries++;
      throw new Error('deadlock');
    });
    expect([out, tries, sent.length]).to.deep.equal(['dlq', 2, 1]);
    expect((await m.retries.get()).values[0].value).to.equal(1);
    expect(handler.lastError).to.equal('deadlock');
  });

  it('dead-letters a non-retriable error at once', async () => {
    const { handler, sent } = fakeHandler();
    let tries = 0;
    const d = { topic: 't', partition: 0, message: message('5') };
    const out = await handler.withRetry(d, async () => {
      tries++;
      throw new LabError('not retriable');
    });
    expect([out, tries, sent.length]).to.deep.equal(['dlq', 1, 1]);
  });

  it('passes the side-effect failpoint once per applied or duplicate event, never in commit-first', async () => {
    const naive = fakeHandler({ CONSUMER_MODE: 'naive' });
    await naive.handler.account(['applied', 'duplicate', 'dlq']);
    expect(naive.hits).to.have.length(2);
    const first = fakeHandler({ CONSUMER_MODE: 'commit-first' });
    await first.handler.account(['applied']);
    expect(first.hits).to.have.length(0);
  });
});
