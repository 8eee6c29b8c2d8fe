import { expect } from 'chai';
import {
  untilQuiet,
  type QuietReading,
} from '../../../../src/experiments/workloads/commands/quiescence';

/** The quiescence loop with a fake reading and a fake clock (no stack). */
function loop(readings: QuietReading[], timeoutMs = 1000) {
  let now = 0;
  const seen = { notes: [] as string[], cannotTell: [] as string[] };
  const run = untilQuiet({
    read: async () => readings[Math.min(readings.length - 1, Math.floor(now / 500))],
    timeoutMs,
    note: (w) => seen.notes.push(w),
    cannotTell: (why) => seen.cannotTell.push(why),
    clock: { now: () => now, sleep: async (ms) => void (now += ms) },
  });
  return run.then(() => seen);
}

describe('quiescence (fake readings, fake clock)', () => {
  it('returns once the outbox is drained and every group caught up', async () => {
    const seen = await loop([
      { backlog: 3, lag: 5, groups: 1 },
      { backlog: 0, lag: 0, groups: 1 },
    ]);
    expect(seen.cannotTell).to.deep.equal([]);
    expect(seen.notes[0]).to.match(/^quiescent after 0\.5 s \(outbox backlog 0, lag 0/);
  });

  it('says the run cannot tell when the lag never drains within the timeout', async () => {
    const seen = await loop([{ backlog: 0, lag: 4, groups: 1 }]);
    expect(seen.cannotTell).to.deep.equal([
      'quiescence not reached in 1000 ms (outbox backlog 0, lag 4 over 1 group(s))',
    ]);
    expect(seen.notes).to.deep.equal([]);
  });

  it('keeps waiting while the lag is not known yet, and cannot tell if it never is', async () => {
    const seen = await loop([{ backlog: 0, lag: 'unknown (coordinator loading)', groups: 1 }]);
    expect(seen.cannotTell[0]).to.match(/lag unknown \(coordinator loading\)/);
  });
});
