import { expect } from 'chai';
import { Registry } from 'prom-client';
import { HttpError } from '../../../src/services/common/app';
import { QueryMetrics } from '../../../src/services/query/metrics';
import {
  productIdParam,
  productReadRoute,
  queryServiceName,
  startInvalidator,
} from '../../../src/services/query/routes';
import type { Answer } from '../../../src/services/query/stampede/types';

describe('query-service’s routes', () => {
  it('names instance 1 query-service and the others query-service-<n>', () => {
    expect([queryServiceName(1), queryServiceName(3)]).to.deep.equal([
      'query-service',
      'query-service-3',
    ]);
  });

  it('takes a BIGINT id and refuses anything else with a 400', () => {
    expect(productIdParam('42')).to.equal('42');
    for (const bad of ['-1', 'x', '1'.repeat(20), ''])
      expect(() => productIdParam(bad))
        .to.throw(HttpError)
        .with.property('status', 400);
  });

  it('answers a read with the product and its source, 404 when there is none', async () => {
    const metrics = new QueryMetrics(new Registry(), '1');
    const product = { id: '7', version: 3 } as unknown as NonNullable<Answer['product']>;
    const found = productReadRoute({ get: async () => ({ product, source: 'cache' }) }, metrics);
    expect(await found.handle(['7'])).to.deep.equal({
      status: 200,
      body: { product, source: 'cache', version: 3 },
    });
    const none = productReadRoute({ get: async () => ({ product: null, source: 'db' }) }, metrics);
    const err = await none.handle(['7']).catch((e: HttpError) => e);
    expect(err).to.be.instanceOf(HttpError).with.property('status', 404);
  });

  it('retries the invalidation consumer’s start, stopping it between attempts, with a growing pause', async () => {
    const pauses: number[] = [];
    let starts = 0;
    let stops = 0;
    const inv = {
      start: async () => {
        if (++starts < 3) throw new Error('no broker');
      },
      stop: async () => void stops++,
    };
    await startInvalidator(inv, { error: () => {} }, async (ms) => pauses.push(ms));
    expect([starts, stops, pauses]).to.deep.equal([3, 2, [500, 1000]]);
  });
});
