import { expect } from 'chai';
import type { CellResult } from '../../src/experiments/workloads/durability/phase';
import { expectOutcome, runById, SEEDS } from './support';

/**
 * E-009 kills a broker twice per run and waits for it to come back each time (~3–5 min per seed on the shared
 * 2-core box), so CI runs one seed (42) to stay within its 6-minute budget; LAB_E009_SEEDS=11,23,42 runs all three
 * (so does `./scripts/exp run E-009 --seed N`).
 */
const E009_SEEDS = (
  process.env.LAB_E009_SEEDS ?? (process.env.CI === 'true' ? '42' : SEEDS.join(','))
)
  .split(',')
  .map(Number);

describe('E-009 acks × min.insync.replicas × unclean election under a leader failover', function () {
  this.timeout(600_000);
  for (const seed of E009_SEEDS) {
    it(`keeps every write acks=all + min.insync=2 acknowledged, and loses acknowledged acks=1 writes, naming them (seed ${seed})`, async () => {
      const r = await runById('E-009', seed);
      expectOutcome(r, 'completed');
      const f = r.audit!.figures;
      const cells = (r.audit!.data as { cells: CellResult[] }).cells;
      const cell = (fault: string, label: string) =>
        cells.find((c) => c.fault === fault && c.label === label)!;

      expect(f.safeLost).to.equal(0);
      for (const c of cells.filter((x) => x.cell.acks === 'all' && x.cell.minInsync === 2))
        expect(c.audit.lost, c.label).to.be.empty;
      // acks=1: the leader acknowledged writes its followers never fetched; the follower elected from the ISR lacks them.
      const acks1 = cell('lagging-followers-kill', 'acks=1 min.insync=2 unclean=off');
      expect(acks1.audit.lost.length, 'acks=1 lost writes').to.be.greaterThan(0);
      expect(
        acks1.audit.lost.every((l) => l.ackedOffset !== null),
        'each lost acks=1 write has the offset its ack named',
      ).to.equal(true);
      expect(
        acks1.uncleanElection,
        'a clean election (the follower was in the ISR) still loses them',
      ).to.equal(false);
      // With the ISR shrunk to the leader alone, only an unclean election can lose writes acks=all + min.insync=1 acknowledged.
      expect(cell('isr-shrunk-kill', 'acks=all min.insync=1 unclean=off').audit.lost).to.be.empty;
      // The safe cell refused writes (NOT_ENOUGH_REPLICAS) rather than acknowledging them on the leader alone.
      expect(
        cell('isr-shrunk-kill', 'acks=all min.insync=2 unclean=off').audit.rejected,
      ).to.be.greaterThan(0);
      expect(f.lost).to.equal(cells.reduce((a, c) => a + c.audit.lost.length, 0));
    });
  }
});
