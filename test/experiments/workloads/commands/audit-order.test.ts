import { expect } from 'chai';
import { reorderedEvents } from '../../../../src/experiments/workloads/commands/audit';

describe('per-key order in the audit', () => {
  const record = (eventId: string, productId: number, version: number) => ({
    eventId,
    productId,
    version,
  });

  it('names each event whose first record comes after a newer version of its product', () => {
    expect(
      reorderedEvents([
        record('a1', 1, 1),
        record('b1', 2, 1),
        record('a3', 1, 3),
        record('a2', 1, 2),
        record('b2', 2, 2),
      ]),
    ).to.deep.equal([{ eventId: 'a2', productId: 1, version: 2, after: 3 }]);
  });

  it('leaves a redelivered copy of an older event to the duplicate count, and keys apart', () => {
    expect(
      reorderedEvents([
        record('a1', 1, 1),
        record('a2', 1, 2),
        record('a1', 1, 1),
        record('b5', 2, 5),
        record('c1', 3, 1),
      ]),
    ).to.deep.equal([]);
  });
});
