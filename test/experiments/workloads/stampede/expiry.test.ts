import { expect } from 'chai';
import { keys } from '../../../../src/services/query/cache';
import {
  hardExpire,
  softExpire,
  waitFilledSince,
} from '../../../../src/experiments/workloads/stampede/expiry';
import { fakeRedis } from './fake-redis';

const k = keys('lab:exp');
const entry = (filledAt: number) =>
  JSON.stringify({
    product: { id: 1 },
    version: 1,
    filledAt,
    softExpiresAt: filledAt + 60_000,
    deltaMs: 5,
  });

describe('stampede expiry (fake Redis)', () => {
  it('hard-expires by deleting each value key, as a PX TTL running out would', async () => {
    const f = fakeRedis({ [k.value('1')]: entry(0), [k.value('2')]: entry(0), other: 'x' });
    await hardExpire(f.redis, 'lab:exp', [1, 2]);
    expect([...f.store.keys()]).to.deep.equal(['other']);
  });

  it('soft-expires by moving the logical expiry into the past, keeping the entry and its TTL', async () => {
    const f = fakeRedis({ [k.value('1')]: entry(1000) });
    const before = Date.now();
    await softExpire(f.redis, 'lab:exp', [1]);
    const e = JSON.parse(f.store.get(k.value('1'))!) as { softExpiresAt: number; filledAt: number };
    expect(e.filledAt).to.equal(1000);
    expect(e.softExpiresAt).to.be.below(before + 1);
  });

  it('refuses to soft-expire a key that is not cached (the warm-up was not answered from the cache)', async () => {
    const f = fakeRedis();
    let err: Error | undefined;
    await softExpire(f.redis, 'lab:exp', [7]).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/is not cached, so it cannot be soft-expired/);
  });

  it('waits until every key was filled after the moment given, and says false when one never is', async () => {
    const f = fakeRedis({ [k.value('1')]: entry(500), [k.value('2')]: entry(100) });
    expect(await waitFilledSince(f.redis, 'lab:exp', [1, 2], 100, 1000)).to.equal(true);
    expect(await waitFilledSince(f.redis, 'lab:exp', [1, 2], 200, 120)).to.equal(false);
  });
});
