import { expect } from 'chai';
import type { RunResult } from '../../src/experiments/engine';
import { emptyFacts } from '../../src/experiments/facts';
import { sideRun as run } from '../support/side-run';
import { figureRows, pairMarkdown, pairOf } from '../../src/experiments/pair';

const audit = (lost: string[], committed: number): RunResult['audit'] => ({
  figures: { committed, lostBeforeTopic: lost.length },
  ids: {
    lostBeforeTopic: lost,
    notApplied: [],
    duplicateEffects: [],
    topicDuplicates: [],
    staleReads: [],
  },
});

describe('a pair of runs, one per side', () => {
  it('completes when each side showed its own outcome under the same fault schedule', () => {
    const p = pairOf([run('anti-pattern'), run('pattern')]);
    expect(p.sameSchedule).to.equal(true);
    expect(p.outcome).to.equal('completed');
  });

  it('deviates when the sides saw different crashes, though each side completed, and says which fact differs', () => {
    const other = run('pattern', {
      facts: { ...emptyFacts(), commandsSent: 60, crashes: 2, failpointsFired: 2 },
    });
    const p = pairOf([run('anti-pattern'), other]);
    expect(p.outcome).to.equal('deviated');
    expect(p.scheduleDifferences).to.include('crashes: 3 (anti-pattern) ≠ 2 (pattern)');
  });

  it('deviates when the fault steps differ, and takes the worst side outcome otherwise', () => {
    const other = run('pattern', { timeline: [] });
    expect(pairOf([run('anti-pattern'), other]).scheduleDifferences.join()).to.match(/fault steps/);
    const failedSide = run('pattern', { outcome: 'failed' });
    expect(pairOf([run('anti-pattern', { outcome: 'deviated' }), failedSide]).outcome).to.equal(
      'failed',
    );
  });

  it('shows figure × side with the difference, and the lost ids of each side', () => {
    const p = pairOf([
      run('anti-pattern', { audit: audit(['e1', 'e2', 'e3'], 60) }),
      run('pattern', { audit: audit([], 60) }),
    ]);
    const lost = figureRows(p).find((r) => r.figure === 'lostBeforeTopic');
    expect(lost).to.deep.equal({ figure: 'lostBeforeTopic', values: [3, 0], difference: -3 });
    const md = pairMarkdown(p);
    expect(md).to.contain('| lostBeforeTopic | 3 | 0 | -3 |');
    expect(md).to.contain('❌ anti-pattern lostBeforeTopic: e1, e2, e3');
    expect(md).to.contain(
      'Same fault schedule on both sides: commandsSent 60, crashes 3, failpointsFired 3',
    );
    expect(md).to.contain('command-service died (crash #1)');
  });

  it("judges the file's relations between the sides, and fails one without data", () => {
    const sides = [
      run('anti-pattern', { audit: audit(['e1', 'e2'], 60) }),
      run('pattern', { audit: audit([], 60) }),
    ];
    const fewer = { name: 'fewer lost', figure: 'lostBeforeTopic', pattern: 'lt' as const };
    expect(pairOf(sides, [fewer]).comparisons).to.deep.equal([
      { name: 'fewer lost', relation: 'lt', pattern: 0, antiPattern: 2, ok: true },
    ]);
    const more = { ...fewer, name: 'more lost', pattern: 'gt' as const };
    expect(pairOf(sides, [more]).outcome).to.equal('deviated');
    const missing = { name: 'lag', probe: 'no such probe', pattern: 'lt' as const };
    const judged = pairOf(sides, [missing]);
    expect(judged.comparisons[0].ok).to.equal(false);
    expect(judged.outcome).to.equal('deviated');
    expect(pairMarkdown(judged)).to.contain('❌ lag: pattern no data < anti-pattern no data');
  });
});
