import { expect } from 'chai';
import type { RunResult } from '../../src/experiments/engine';
import { genericFiguresLine, headline } from '../../src/experiments/report';

/** A finished run of some kind with these figures (only what the headline reads). */
function run(workloadKind: string, figures: Record<string, number>): RunResult {
  return {
    id: 'E-008',
    expected: 'reproduced',
    outcome: 'completed',
    workloadKind,
    audit: {
      figures,
      ids: {
        lostBeforeTopic: [],
        notApplied: [],
        duplicateEffects: [],
        topicDuplicates: [],
        staleReads: [],
      },
    },
  } as unknown as RunResult;
}

describe('the headline of a run (its one line of figures)', () => {
  it('uses the line of a kind that has one: E-008 shows only the modes it stormed', () => {
    const line = headline(
      run('cache-stampede', {
        keyExpiries: 30,
        readers: 400,
        dbLatencyMs: 300,
        noneDbLoadsPerKey: 27.7,
        noneP99Ms: 1200,
        singleflightDbLoadsPerKey: NaN,
        singleflightP99Ms: NaN,
      }),
    );
    expect(line).to.equal(
      'E-008 as expected: ❌ reproduced — none: 27.7 DB loads/key/expiry, p99 1200 ms; 30 key expiries, 400 readers, DB latency 300 ms',
    );
    expect(line).to.not.include('NaN');
  });

  it('prints every figure as `name value` for a kind without a line of its own', () => {
    const line = headline(run('key-order', { reordered: 2, keys: 5 }));
    expect(line).to.equal('E-008 as expected: ❌ reproduced — reordered 2, keys 5');
    expect(genericFiguresLine({ a: 1, b: null })).to.equal('a 1, b null');
  });

  it('keeps the command audit line for the command stream', () => {
    const line = headline(
      run('commands', {
        committed: 57,
        lostBeforeTopic: 3,
        topicDuplicates: 0,
        notApplied: 0,
        duplicateEffects: 0,
        dlqRecords: 0,
        staleReads: 0,
      }),
    );
    expect(line).to.match(/— committed 57, lost before topic 3, topic duplicates 0,/);
  });
});
