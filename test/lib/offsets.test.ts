import { expect } from 'chai';
import { atMost, readBetweenHws } from '../../src/lib/offsets';

/** A partition whose HW moves by a script: each HW reading takes the next value. */
const scripted = (hws: number[]) => {
  let i = 0;
  return async () => new Map([[0, BigInt(hws[Math.min(i++, hws.length - 1)])]]);
};

describe('reading an HW and an LSO that belong together', () => {
  it('keeps the first pair when the HW did not move while the LSO was read', async () => {
    let lsoReads = 0;
    const r = await readBetweenHws(scripted([10, 10]), async () => ++lsoReads);
    expect(r.hw.get(0)).to.equal(10n);
    expect(r.between).to.equal(1);
  });

  it('reads again when a commit moved the HW meanwhile, and pairs the new LSO with the HW before it', async () => {
    let lsoReads = 0;
    const r = await readBetweenHws(scripted([10, 15, 15]), async () => ++lsoReads);
    expect(r.hw.get(0)).to.equal(15n);
    expect(r.between).to.equal(2);
  });

  it('gives up after the allowed attempts with the HW read before the last LSO', async () => {
    let lsoReads = 0;
    const r = await readBetweenHws(scripted([10, 11, 12, 13, 14]), async () => ++lsoReads, 3);
    expect(r.between).to.equal(3);
    expect(r.hw.get(0)).to.equal(12n);
  });

  it('reports an LSO read past an earlier HW as that HW, never a negative gap', () => {
    expect(atMost(17n, 15n)).to.equal(15n);
    expect(atMost(12n, 15n)).to.equal(12n);
  });
});
