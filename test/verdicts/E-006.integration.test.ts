import { expect } from 'chai';
import { expectOutcome, runById, SEEDS } from './support';

describe('E-006 schema evolution through the schema registry', function () {
  // ~60 s a run on a quiet machine; several minutes on a 2-core box shared with other labs.
  this.timeout(420_000);
  for (const seed of SEEDS) {
    it(`fails every event written with the breaking schema when the producer deploys first (seed ${seed})`, async () => {
      const r = await runById('E-006', seed);
      expectOutcome(r, 'completed');
      const f = r.audit!.figures;
      expect(f.dlqRecords, 'events in the DLQ').to.be.greaterThan(0);
      // Every committed event was either applied (written with v1) or written with v2-breaking — never both, never neither.
      const breaking = r.probes.find((p) =>
        p.name.startsWith('every record the relay wrote with v2-breaking'),
      )!.observed!;
      expect(f.applied + breaking, 'applied + written with v2-breaking').to.equal(f.committed);
      expect(f.notApplied).to.equal(0);
      expect(r.facts.schemaRejected).to.equal(0);
      expect(
        r.timeline.some((t) => /register v2-breaking .* HTTP 200/.test(t.what)),
        'NONE accepted the breaking schema',
      ).to.equal(true);
    });
  }

  it('rejects the breaking schema with HTTP 409 and rolls the compatible one out with no failure when consumers go first', async () => {
    const r = await runById('E-006', SEEDS[0], {}, 'pattern');
    expectOutcome(r, 'completed');
    expect(r.expected).to.equal('controlled');
    expect(r.facts.schemaRejected).to.equal(1);
    expect(
      r.timeline.some((t) => /register v2-breaking .* HTTP 409/.test(t.what)),
      'BACKWARD refused the breaking schema',
    ).to.equal(true);
    const f = r.audit!.figures;
    expect(f.dlqRecords).to.equal(0);
    expect(f.applied).to.equal(f.committed);
  });
});
