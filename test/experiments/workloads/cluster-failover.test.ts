import { expect } from 'chai';
import { outcome, roundTable } from '../../../src/experiments/workloads/cluster-failover';

const round = (over: Partial<Parameters<typeof outcome>[0][number]> = {}) => ({
  round: 1,
  productId: 7,
  key: 'lab:exp:r:lock:{product:7}',
  master: 'redis-cluster-1',
  promoted: 'redis-cluster-5',
  setReply: 'OK',
  replicasAcked: null,
  trusted: true,
  survived: false,
  grantedAgain: true,
  dbLoads: 2,
  failoverMs: 5100,
  ...over,
});

describe('the Redis Cluster failover audit', () => {
  it('counts a trusted lock that vanished and was granted again as lost, and its product as loaded twice', () => {
    const f = outcome([round(), round({ round: 2, productId: 9, failoverMs: 6000 })]).figures;
    expect(f).to.include({
      rounds: 2,
      writesAcknowledged: 2,
      writesLost: 2,
      trustedWritesLost: 2,
      refusedByWait: 0,
      locksGrantedTwice: 2,
      dbLoads: 4,
      productsLoadedTwice: 2,
      maxFailoverMs: 6000,
    });
  });

  it('counts a lock WAIT reported on no replica as refused, lost but not trusted, and loaded once', () => {
    const f = outcome([round({ replicasAcked: 0, trusted: false, dbLoads: 1 })]).figures;
    expect(f).to.include({
      writesLost: 1,
      trustedWritesLost: 0,
      refusedByWait: 1,
      locksGrantedTwice: 0,
      productsLoadedTwice: 0,
      dbLoads: 1,
    });
  });

  it('counts a lock that survived the failover as neither lost nor granted twice', () => {
    const f = outcome([round({ survived: true, grantedAgain: false, dbLoads: 1 })]).figures;
    expect(f).to.include({
      writesLost: 0,
      trustedWritesLost: 0,
      locksGrantedTwice: 0,
      productsLoadedTwice: 0,
    });
  });

  it('lists every round by key with what the failover did to its lock', () => {
    const table = roundTable([round()]);
    expect(table).to.include('`lab:exp:r:lock:{product:7}`');
    expect(table).to.include('redis-cluster-1 → redis-cluster-5 (5100 ms)');
    expect(table).to.include('**lost**').and.include('**granted again**');
  });
});
