import { expect } from 'chai';
import { PORT_DEFAULTS } from '../../../src/lib/config';
import { ConfigError } from '../../../src/lib/errors';
import { loadQueryConfig } from '../../../src/services/query/config';

const lab = { host: '127.0.0.1' as const, ports: { ...PORT_DEFAULTS }, brokerCount: 3 as const };
const load = (env: Record<string, string>) => loadQueryConfig(env, lab);
const errorOf = (env: Record<string, string>) => {
  try {
    load(env);
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('query-service config', () => {
  it('has the documented defaults', () => {
    const c = load({});
    expect(c).to.include({
      instance: 1,
      port: 18081,
      topic: 'lab.products',
      group: 'lab-query-1',
      cacheTtlMs: 30_000,
      cacheTtlJitter: 0.1,
      invalidation: 'del',
      stampede: 'none',
      xfetchBeta: 0,
      keyPrefix: 'lab:query:',
      fromBeginning: true,
    });
    expect(c.softTtlMs).to.equal(15_000);
  });

  it('gives instance 2 its own port and its own consumer group', () => {
    const c = load({ SERVICE_INSTANCE: '2' });
    expect(c.port).to.equal(PORT_DEFAULTS.queryService2);
    expect(c.group).to.equal('lab-query-2');
    expect(load({ SERVICE_INSTANCE: '2', LAB_QUERY_SERVICE_PORT: '18999' }).port).to.equal(18999);
    // services.ts starts "query-service-2" with LAB_QUERY_SERVICE_2_PORT and LAB_SERVICE_NAME, maybe no SERVICE_INSTANCE.
    expect(
      load({
        SERVICE_INSTANCE: '2',
        LAB_QUERY_SERVICE_2_PORT: '18777',
        LAB_QUERY_SERVICE_PORT: '18081',
      }).port,
    ).to.equal(18777);
    expect(
      load({ LAB_SERVICE_NAME: 'query-service-2', LAB_QUERY_SERVICE_2_PORT: '18777' }),
    ).to.include({ instance: 2, port: 18777, group: 'lab-query-2' });
    expect(load({ LAB_SERVICE_NAME: 'query-service' })).to.include({ instance: 1, port: 18081 });
  });

  it('rejects an unknown mode and lists the valid ones', () => {
    expect(errorOf({ STAMPEDE: 'single-flight' }))
      .to.contain('STAMPEDE="single-flight" is invalid')
      .and.contain('valid: none, singleflight, soft-ttl');
    expect(errorOf({ CACHE_INVALIDATION: 'delete' }))
      .to.contain('CACHE_INVALIDATION="delete"')
      .and.contain('valid: del, versioned');
  });

  it('reports every bad variable at once, by its env name', () => {
    const msg = errorOf({
      STAMPEDE: 'x',
      CACHE_TTL_MS: 'soon',
      CACHE_TTL_JITTER: '2',
      XFETCH_BETA: '-1',
    });
    for (const v of ['STAMPEDE=', 'CACHE_TTL_MS=', 'CACHE_TTL_JITTER=', 'XFETCH_BETA='])
      expect(msg).to.contain(v);
  });

  it('refuses a soft TTL that does not end before the (jittered) hard TTL', () => {
    expect(
      errorOf({
        STAMPEDE: 'soft-ttl',
        CACHE_TTL_MS: '1000',
        SOFT_TTL_MS: '1000',
        CACHE_TTL_JITTER: '0',
      }),
    ).to.contain('SOFT_TTL_MS="1000"');
    // 900·1.1 = 990 ≥ 1000·0.9 = 900: jitter could make the soft expiry come after the hard one.
    expect(errorOf({ STAMPEDE: 'soft-ttl', CACHE_TTL_MS: '1000', SOFT_TTL_MS: '900' })).to.contain(
      'SOFT_TTL_MS',
    );
    expect(
      load({ STAMPEDE: 'soft-ttl', CACHE_TTL_MS: '1000', SOFT_TTL_MS: '500' }).softTtlMs,
    ).to.equal(500);
    // Only soft-ttl uses it, so other modes do not fail on it.
    expect(load({ STAMPEDE: 'none', CACHE_TTL_MS: '1000', SOFT_TTL_MS: '5000' }).stampede).to.equal(
      'none',
    );
  });

  it('treats an empty variable as unset', () => {
    expect(load({ STAMPEDE: '', CACHE_INVALIDATION: '' })).to.include({
      stampede: 'none',
      invalidation: 'del',
    });
  });

  it('keeps the key prefix inside lab:, so /cache/flush cannot reach other keys', () => {
    expect(errorOf({ QUERY_CACHE_PREFIX: 'product:' })).to.contain('QUERY_CACHE_PREFIX');
    expect(errorOf({ QUERY_CACHE_PREFIX: 'lab:*' })).to.contain('QUERY_CACHE_PREFIX');
    expect(load({ QUERY_CACHE_PREFIX: 'lab:q2:' }).keyPrefix).to.equal('lab:q2:');
  });

  it('parses booleans strictly', () => {
    expect(load({ LAB_QUERY_FROM_BEGINNING: 'false' }).fromBeginning).to.equal(false);
    expect(errorOf({ LAB_QUERY_FROM_BEGINNING: 'maybe' })).to.contain('LAB_QUERY_FROM_BEGINNING');
  });
});
