import { expect } from 'chai';
import { percentile } from '../../src/lib/percentile';

describe('percentile', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).to.equal(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).to.equal(99);
  });

  it('ranks up, not down: the p99 of 10 values is the largest', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).to.equal(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).to.equal(5);
  });

  it('has none for an empty list: NaN', () => {
    expect(percentile([], 99)).to.be.NaN;
  });
});
