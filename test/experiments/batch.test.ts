import { expect } from 'chai';
import * as path from 'node:path';
import {
  batchExitCode,
  batchJson,
  expandSelection,
  lockLabel,
  onlySide,
  worstOutcome,
} from '../../src/experiments/batch';
import type { Outcome, RunResult } from '../../src/experiments/engine';
import type { PairResult } from '../../src/experiments/pair';
import type { SideName } from '../../src/experiments/schema';
import { reportLayout } from '../../src/reports/layout';

/** Fake files: each name's declared sides ([undefined] = a one-run experiment). */
const FILES: Record<string, (SideName | undefined)[]> = {
  'E-001': [undefined],
  'E-002': ['anti-pattern', 'pattern'],
  'E-003': ['pattern', 'anti-pattern'],
  'E-004': ['pattern'],
};
const files = (...ids: string[]) => ids.map((file) => ({ file }));
const expand = (ids: string[], only?: SideName) =>
  expandSelection(
    files(...ids),
    only,
    (f) => FILES[f],
    (file, side) => `${file}${side ? `:${side}` : ''}`,
  );
const outcomes = (...os: Outcome[]) => os.map((outcome) => ({ outcome }));

describe('exp run batch: the exit-code policy', () => {
  it('exits with the single run’s outcome (README, "Exit codes")', () => {
    const codes = (
      ['completed', 'deviated', 'aborted', 'failed', 'inconclusive', 'interrupted'] as const
    ).map((o) => batchExitCode(outcomes(o), []));
    expect(codes).to.deep.equal([0, 1, 3, 4, 5, 130]);
  });

  it('exits 0 with nothing run (every group filtered out) and when everything completed', () => {
    expect(batchExitCode([], [])).to.equal(0);
    expect(batchExitCode(outcomes('completed', 'completed'), outcomes('completed'))).to.equal(0);
  });

  it('lets the worst outcome decide: interrupted > failed > aborted > inconclusive > deviated > completed', () => {
    expect(worstOutcome(['deviated', 'inconclusive', 'completed'])).to.equal('inconclusive');
    expect(worstOutcome(['inconclusive', 'aborted'])).to.equal('aborted');
    expect(worstOutcome(['failed', 'aborted', 'deviated'])).to.equal('failed');
    expect(worstOutcome(['failed', 'interrupted'])).to.equal('interrupted');
    expect(batchExitCode(outcomes('completed', 'aborted', 'deviated'), [])).to.equal(3);
  });

  it('counts a pair’s outcome though each of its sides completed (different fault schedules)', () => {
    expect(batchExitCode(outcomes('completed', 'completed'), outcomes('deviated'))).to.equal(1);
    expect(batchExitCode(outcomes('inconclusive'), outcomes('deviated'))).to.equal(5);
  });
});

describe('exp run batch: what a selection expands to', () => {
  it('runs every declared side of an experiment, in the file’s order, or its one run', () => {
    expect(expand(['E-002'])).to.deep.equal([['E-002:anti-pattern', 'E-002:pattern']]);
    expect(expand(['E-003'])).to.deep.equal([['E-003:pattern', 'E-003:anti-pattern']]);
    expect(expand(['E-001'])).to.deep.equal([['E-001']]);
  });

  it('runs one side with --side, or the anti-pattern side with --counterfactual', () => {
    expect(onlySide({ id: 'E-002', side: 'pattern', counterfactual: false })).to.equal('pattern');
    expect(onlySide({ id: 'E-002', counterfactual: true })).to.equal('anti-pattern');
    expect(onlySide({ id: 'E-002', counterfactual: false })).to.equal(undefined);
    expect(expand(['E-002'], 'pattern')).to.deep.equal([['E-002:pattern']]);
  });

  it('with several experiments and a side, leaves out those that do not show it', () => {
    expect(expand(['E-001', 'E-002', 'E-003', 'E-004'], 'anti-pattern')).to.deep.equal([
      ['E-002:anti-pattern'],
      ['E-003:anti-pattern'],
    ]);
    expect(expand(['E-001', 'E-002', 'E-004'])).to.deep.equal([
      ['E-001'],
      ['E-002:anti-pattern', 'E-002:pattern'],
      ['E-004:pattern'],
    ]);
  });

  it('asks a single experiment for the side even when it does not declare it (its load then refuses it)', () => {
    expect(expand(['E-004'], 'anti-pattern')).to.deep.equal([['E-004:anti-pattern']]);
    expect(() =>
      expandSelection(
        files('E-004'),
        'anti-pattern',
        (f) => FILES[f],
        () => {
          throw new Error('E-004 has no anti-pattern side');
        },
      ),
    ).to.throw('no anti-pattern side');
  });

  it('describes itself to the stack lock like the command line', () => {
    expect(lockLabel({ id: 'all', counterfactual: false }, 42)).to.equal('exp run all --seed 42');
    expect(lockLabel({ id: 'E-002', side: 'pattern', counterfactual: false }, 7)).to.equal(
      'exp run E-002 --side pattern --seed 7',
    );
    expect(lockLabel({ id: 'E-002', counterfactual: true }, 42)).to.equal(
      'exp run E-002 --counterfactual --seed 42',
    );
  });

  it('answers --json with a run, a pair, or a list of either', () => {
    const group = (id: string) => [{ experiment: { id } }];
    const run = (id: string) => ({ id }) as RunResult;
    const pair = (id: string) => ({ id }) as PairResult;
    expect(batchJson([group('E-001')], [run('E-001')], [])).to.deep.equal(run('E-001'));
    expect(
      batchJson([group('E-002')], [run('E-002'), run('E-002')], [pair('E-002')]),
    ).to.deep.equal(pair('E-002'));
    expect(
      batchJson(
        [group('E-001'), group('E-002'), group('E-003')],
        [run('E-001'), run('E-002')],
        [pair('E-002')],
      ),
    ).to.deep.equal([run('E-001'), pair('E-002')]);
  });
});

describe('exp run batch: the report layout', () => {
  const root = '/lab';
  const at = { seed: 42, stamp: 'T' };
  const r = (id: string, side?: SideName) => ({ id, side, runId: `${id.toLowerCase()}-run` });

  it('writes a single one-sided run into its own directory: --report, else reports/<run id>', () => {
    const l = reportLayout(root, [{ id: 'E-001', runs: 1 }], at);
    expect(l.root).to.equal(undefined);
    expect(l.runDir(r('E-001'))).to.equal(path.join(root, 'reports', 'e-001-run'));
    expect(
      reportLayout(root, [{ id: 'E-001', runs: 1 }], { ...at, report: 'out' }).runDir(r('E-001')),
    ).to.equal('out');
  });

  it('puts one experiment both ways under reports/<id>-s<seed>-<time>, a directory per side', () => {
    const l = reportLayout(root, [{ id: 'E-002', runs: 2 }], at);
    expect(l.root).to.equal(path.join(root, 'reports', 'e-002-s42-T'));
    expect(l.experimentDir('E-002')).to.equal(l.root);
    expect(l.runDir(r('E-002', 'pattern'))).to.equal(path.join(l.root!, 'pattern'));
  });

  it('puts several experiments under reports/all-<time> (or --report), one directory each', () => {
    const l = reportLayout(
      root,
      [
        { id: 'E-001', runs: 1 },
        { id: 'E-002', runs: 2 },
      ],
      { ...at, report: 'out' },
    );
    expect(l.root).to.equal('out');
    expect(l.runDir(r('E-001'))).to.equal(path.join('out', 'E-001'));
    expect(l.runDir(r('E-002', 'anti-pattern'))).to.equal(
      path.join('out', 'E-002', 'anti-pattern'),
    );
    expect(
      reportLayout(
        root,
        [
          { id: 'E-001', runs: 1 },
          { id: 'E-004', runs: 1 },
        ],
        at,
      ).root,
    ).to.equal(path.join(root, 'reports', 'all-T'));
  });
});
