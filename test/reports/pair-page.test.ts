import { expect } from 'chai';
import { pairOf } from '../../src/experiments/pair';
import { pairHtml, pairPlots } from '../../src/reports/pair-page';
import type { Observations } from '../../src/reports/types';
import { sideRun } from '../support/side-run';

const observed = (points: [number, number][]): Observations => ({
  version: 1,
  window: { startSec: 0, endSec: 20, stepSec: 1 },
  plots: [{ title: 'Consumer lag', unit: 'records', series: [{ name: 'lag', points }] }],
  empty: [],
  alerts: [],
  errors: [],
});

describe('the pair report', () => {
  it('draws both sides of one plot on the same axes, each series named by its side', () => {
    const anti = sideRun('anti-pattern');
    const pattern = sideRun('pattern');
    const plots = pairPlots([
      { run: anti, plots: observed([[1, 40]]).plots },
      { run: pattern, plots: observed([[1, 2]]).plots },
    ]);
    expect(plots).to.have.length(1);
    expect(plots[0].series.map((s) => s.name)).to.deep.equal([
      'anti-pattern: lag',
      'pattern: lag',
    ]);
  });

  it('keeps a plot only one side drew, and says so when neither drew any', () => {
    const anti = sideRun('anti-pattern');
    const pattern = sideRun('pattern');
    expect(pairPlots([{ run: anti, plots: observed([[1, 40]]).plots }, { run: pattern, plots: [] }])).to.have.length(1);
    const html = pairHtml(pairOf([anti, pattern]));
    expect(html).to.include('No series was recorded for these runs.');
    const withPlots = pairHtml(pairOf([anti, pattern]), [observed([[1, 40]]), observed([[1, 2]])]);
    expect(withPlots).to.include('<svg').and.include('anti-pattern: lag').and.include('pattern: lag');
  });
});

describe('the pair report of an inconclusive pair', () => {
  it('reads amber, names the side the lab could not judge and lists its reasons', () => {
    const anti = sideRun('anti-pattern', { outcome: 'inconclusive', inconclusive: ['the crash failpoint never fired'] });
    const pattern = sideRun('pattern');
    const p = { ...pairOf([anti, pattern]), outcome: 'inconclusive' as const };
    const html = pairHtml(p);
    expect(html).to.include('<div class="verdict unknown">INCONCLUSIVE: the lab could not tell for anti-pattern');
    const side = /<li><a href="anti-pattern\/report.html">(.*?)<\/li><li>/s.exec(html)![1];
    expect(side).to.include('<span class="badge unknown">').and.include('<li>the crash failpoint never fired</li>');
  });
});
