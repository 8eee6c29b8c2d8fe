import { expect } from 'chai';
import {
  expectCounterfactualNotReproduced,
  expectSabotageCaught,
  runBothWays,
  SEEDS,
} from './support';

describe('E-011 per-key order: two relays on one outbox, both ways', function () {
  this.timeout(360_000);
  for (const seed of SEEDS) {
    it(`publishes one product change out of order per hold and moves a last-write read model back, and keeps order with sharded relays and a versioned read model (seed ${seed})`, async () => {
      const { antiPattern: racing, pattern: sharded } = await runBothWays('E-011', seed);

      const reordered = racing.audit!;
      expect(reordered.figures.reordered).to.equal(racing.facts.failpointsFired);
      expect(reordered.ids.reordered, 'every reordered event listed').to.have.length(
        reordered.figures.reordered,
      );
      for (const r of reordered.ids.reordered!) expect(r.version).to.be.below(r.after);
      expect(reordered.figures.viewBackwards).to.equal(reordered.figures.reordered);
      expect(reordered.figures.lostBeforeTopic).to.equal(0);

      const ordered = sharded.audit!;
      expect(sharded.facts.failpointsFired, 'the same holds').to.equal(
        racing.facts.failpointsFired,
      );
      expect(ordered.figures.reordered).to.equal(0);
      expect(ordered.figures.viewBackwards).to.equal(0);
      expect(ordered.figures.readModelBehind).to.equal(0);
    });
  }

  it('catches the pattern side sabotaged: both relays on one shard publish out of order and deviate, while the versioned read model still never goes back', async () => {
    const r = await expectSabotageCaught(
      'E-011',
      SEEDS[0],
      (e) => {
        e.services['outbox-relay']!.env.RELAY_SHARD = '0/1';
        e.services['outbox-relay-2']!.env.RELAY_SHARD = '0/1';
      },
      '✅ no event out of per-key order (audit)',
    );
    expect(r.audit!.figures.reordered).to.equal(r.facts.failpointsFired);
    // What each guarantee gives: the versioned consumer alone keeps the read model right under reordering.
    expect(r.audit!.figures.viewBackwards).to.equal(0);
  });

  it('does not reproduce its ❌ side with every fault step removed (counterfactual)', async () => {
    await expectCounterfactualNotReproduced(
      'E-011',
      SEEDS[0],
      'probe "❌ some events really out of order"',
    );
  });
});
