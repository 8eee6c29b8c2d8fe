import { expect } from 'chai';
import {
  errorKind,
  failureTable,
  outcome,
} from '../../../src/experiments/workloads/cluster-reshard';

describe('the Redis Cluster resharding audit', () => {
  it('names the redirect that failed a read, from ioredis’ message or the node’s reply', () => {
    expect(
      errorKind('Too many Cluster redirections. Last error: ReplyError: MOVED 12 127.0.0.1:17001'),
    ).to.equal('MOVED');
    expect(
      errorKind('Too many Cluster redirections. Last error: ReplyError: ASK 12 127.0.0.1:17001'),
    ).to.equal('ASK');
    expect(errorKind('TRYAGAIN Multiple keys request during rehashing of slot')).to.equal(
      'TRYAGAIN',
    );
    expect(errorKind('CLUSTERDOWN The cluster is down')).to.equal('CLUSTERDOWN');
    expect(errorKind('Connection is closed.')).to.equal('other');
  });

  it('counts failed reads per redirect and per product, and lists them by key', () => {
    const fail = (productId: number, kind: 'MOVED' | 'ASK', atMs: number) => ({
      productId,
      command: 'get' as const,
      slot: 5,
      kind,
      error: `${kind} 5 127.0.0.1:17001`,
      atMs,
    });
    const o = outcome({
      reads: 100,
      wrongAnswers: 0,
      failures: [fail(3, 'MOVED', 10), fail(3, 'MOVED', 30), fail(4, 'ASK', 20)],
      hot: 9,
      slotsMoved: 300,
      reshardMs: 2500,
    });
    expect(o.figures).to.include({
      reads: 100,
      succeeded: 97,
      failedReads: 3,
      movedErrors: 2,
      askErrors: 1,
      redirectErrors: 3,
      productsWithFailedReads: 2,
    });
    expect(o.sections[0].markdown).to.include('| 3 | 5 | GET | MOVED | 2 | 10–30 |');
  });

  it('says so when no read failed', () => {
    expect(failureTable([])).to.equal('No read failed.');
  });
});
