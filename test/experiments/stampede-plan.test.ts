import { expect } from 'chai';
import { keyExpiries, keyRegex, modeIds } from '../../src/experiments/workloads/stampede/mode-run';
import { planReaders } from '../../src/experiments/workloads/stampede/readers';

describe('cache-stampede scenario: the storm plan', () => {
  const o = { readers: 150, hotKeys: 3, instances: 2, arrivalJitterMs: 20 };
  const storm = {
    readers: 150,
    hotKeys: 3,
    rounds: 2,
    dbLatencyMs: 300,
    arrivalJitterMs: 20,
    expire: true,
  };

  it('gives every mode the same readers for the same seed and round, and another storm for another seed', () => {
    expect(planReaders(42, 1, o)).to.deep.equal(planReaders(42, 1, o));
    expect(planReaders(42, 1, o)).to.not.deep.equal(planReaders(42, 2, o));
    expect(planReaders(11, 1, o)).to.not.deep.equal(planReaders(42, 1, o));
  });

  it('skews readers towards the first hot key, uses both instances and stays inside the arrival jitter', () => {
    const rs = planReaders(23, 1, o);
    const per = [0, 1, 2].map((k) => rs.filter((r) => r.keyIndex === k).length);
    expect(per[0]).to.be.greaterThan(per[2]);
    expect(new Set(rs.map((r) => r.instance))).to.deep.equal(new Set([0, 1]));
    expect(rs.every((r) => r.delayMs >= 0 && r.delayMs < 20)).to.equal(true);
  });

  it('counts a key-expiry only for keys some reader of the round asked for', () => {
    expect(
      keyExpiries(42, {
        readers: 150,
        hotKeys: 3,
        rounds: 2,
        dbLatencyMs: 300,
        arrivalJitterMs: 20,
        expire: true,
      }),
    ).to.equal(6);
    expect(keyExpiries(42, { ...storm, readers: 1 })).to.equal(2);
  });

  it('counts no key-expiry when the keys are not expired (the counterfactual)', () => {
    expect(keyExpiries(42, { ...storm, expire: false })).to.equal(0);
  });

  it('gives each mode product ids that only its own key regex matches', () => {
    for (const m of ['none', 'singleflight', 'soft-ttl'] as const) {
      for (const other of ['none', 'singleflight', 'soft-ttl'] as const) {
        const re = new RegExp(`^${keyRegex(other)}$`);
        expect(modeIds(m, 3).every((id) => re.test(String(id)))).to.equal(m === other);
      }
    }
  });
});
