import { expect } from 'chai';
import { expiries } from '../../../src/services/query/cache';
import {
  xfetchProbability,
  xfetchShouldRefresh,
} from '../../../src/services/query/stampede/xfetch';

/** A seeded PRNG (mulberry32): the statistical checks below are deterministic. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('XFetch early-refresh decision', () => {
  const expiry = 100_000;

  it('always refreshes at or after expiry, whatever β', () => {
    for (const beta of [0, 1, 5]) {
      expect(
        xfetchShouldRefresh({ now: expiry, expiry, deltaMs: 100, beta, rand: () => 0.999 }),
      ).to.equal(true);
      expect(
        xfetchShouldRefresh({ now: expiry + 1, expiry, deltaMs: 100, beta, rand: () => 0.999 }),
      ).to.equal(true);
    }
  });

  it('never refreshes early with β = 0 (off)', () => {
    expect(
      xfetchShouldRefresh({ now: expiry - 1, expiry, deltaMs: 10_000, beta: 0, rand: () => 1e-12 }),
    ).to.equal(false);
  });

  it('implements now − δ·β·ln(r) ≥ expiry exactly', () => {
    // δβ = 200; r = e^-1 → −δβ·ln r = 200: refresh iff expiry − now ≤ 200.
    const r = () => Math.exp(-1);
    expect(
      xfetchShouldRefresh({ now: expiry - 199, expiry, deltaMs: 100, beta: 2, rand: r }),
    ).to.equal(true);
    expect(
      xfetchShouldRefresh({ now: expiry - 201, expiry, deltaMs: 100, beta: 2, rand: r }),
    ).to.equal(false);
    // r → 1: ln r → 0, no head start.
    expect(
      xfetchShouldRefresh({ now: expiry - 1, expiry, deltaMs: 100, beta: 1, rand: () => 1 }),
    ).to.equal(false);
    // r = 0 (Math.random can return it) is clamped, not −∞; it still means "refresh now".
    expect(
      xfetchShouldRefresh({ now: expiry - 10_000, expiry, deltaMs: 100, beta: 1, rand: () => 0 }),
    ).to.equal(true);
  });

  it('fires with probability exp(−gap/(δβ)) (20 000 seeded draws, ±0.015)', () => {
    const rand = mulberry32(42);
    for (const [gap, delta, beta] of [
      [50, 100, 1],
      [100, 100, 1],
      [300, 100, 1],
      [100, 100, 3],
      [100, 500, 1],
    ] as const) {
      let fired = 0;
      const n = 20_000;
      for (let i = 0; i < n; i++)
        if (xfetchShouldRefresh({ now: expiry - gap, expiry, deltaMs: delta, beta, rand })) fired++;
      expect(fired / n, `gap=${gap} δ=${delta} β=${beta}`).to.be.closeTo(
        xfetchProbability(gap, delta, beta),
        0.015,
      );
    }
  });

  it('refreshes earlier for slower recomputes and larger β', () => {
    expect(xfetchProbability(200, 500, 1)).to.be.greaterThan(xfetchProbability(200, 50, 1));
    expect(xfetchProbability(200, 100, 4)).to.be.greaterThan(xfetchProbability(200, 100, 1));
  });
});

describe('TTL jitter', () => {
  it('keeps TTLs within ±jitter and the soft expiry before the hard one', () => {
    const rand = mulberry32(7);
    const cfg = {
      cacheTtlMs: 10_000,
      cacheTtlJitter: 0.1,
      softTtlMs: 4000,
      stampede: 'soft-ttl' as const,
    };
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const { hardTtlMs, softExpiresAt } = expiries(cfg, 0, rand);
      expect(hardTtlMs).to.be.within(9000, 11_000);
      expect(softExpiresAt).to.be.within(3600, 4400).and.lessThan(hardTtlMs);
      seen.add(Math.round(hardTtlMs / 100));
    }
    expect(seen.size, 'jitter spreads expiries').to.be.greaterThan(15);
  });
  it('gives other modes no separate soft expiry', () => {
    const { hardTtlMs, softExpiresAt } = expiries(
      { cacheTtlMs: 1000, cacheTtlJitter: 0, softTtlMs: 10, stampede: 'singleflight' },
      5,
      () => 0.5,
    );
    expect(hardTtlMs).to.equal(1000);
    expect(softExpiresAt).to.equal(1005);
  });
});
