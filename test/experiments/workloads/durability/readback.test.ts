import { expect } from 'chai';
import type { Write } from '../../../../src/experiments/workloads/durability/producer';
import { auditCell } from '../../../../src/experiments/workloads/durability/readback';

const write = (seq: number, outcome: Write['outcome']): Write => ({
  seq,
  outcome,
  offset: outcome === 'acked' ? String(seq - 1) : null,
  atMs: seq,
});
const found = (...seqs: number[]) => seqs.map((seq, i) => ({ seq, offset: String(i) }));

describe('the durability audit of one cell', () => {
  it('counts acks=0 writes as sent, never acknowledged: the missing ones are not lost acknowledged writes', () => {
    const audit = auditCell([write(1, 'sent'), write(2, 'sent'), write(3, 'sent')], found(1));
    expect(audit.acked).to.equal(0);
    expect(audit.sent).to.equal(3);
    expect(audit.sentMissing).to.equal(2);
    expect(audit.lost).to.deep.equal([]);
    expect(audit.unackedPresent).to.equal(0);
  });

  it('names each acknowledged write missing from the log with its acked offset, and counts the indeterminate ones that landed', () => {
    const audit = auditCell(
      [write(1, 'acked'), write(2, 'acked'), write(3, 'failed'), write(4, 'rejected')],
      found(1, 3, 3),
    );
    expect(audit.lost).to.deep.equal([{ seq: 2, ackedOffset: '1' }]);
    expect(audit.duplicated).to.deep.equal([3]);
    expect(audit.unackedPresent).to.equal(1);
    expect(audit.sent).to.equal(0);
  });
});
