import { expect } from 'chai';
import type { RunResult } from '../../src/experiments/engine';
import { pairOf } from '../../src/experiments/pair';
import { badge, expectedBadge, markEmoji } from '../../src/reports/badge';
import { figureTableHtml, groupFigures, words } from '../../src/reports/figure-groups';
import { htmlReport } from '../../src/reports/html-page';
import { indexHtml } from '../../src/reports/index-page';
import { pairHtml } from '../../src/reports/pair-page';
import { noObservations } from '../../src/reports/types';
import { sideRun } from '../support/side-run';

/** Any pictograph a missing emoji font would draw as an empty box: ✅ ❌ ✔ ✘ ✓ ✗. */
const EMOJI = /[\u2705\u274C\u2714\u2718\u2713\u2717]/u;

/** E-008's figure names: per mode (none, singleflight, softTtl) the same measurements, plus run-wide ones. */
const MODES = ['none', 'singleflight', 'softTtl'];
const PER_MODE = ['DbLoads', 'DbLoadsByService', 'DbLoadsPerKey', 'P50Ms', 'P99Ms', 'StaleAnswers'];
function stampedeFigures(): Record<string, number> {
  const f: Record<string, number> = { keyExpiries: 4, readers: 200, dbLatencyMs: 300 };
  f.worstDbLoadsPerKey = 50;
  f.worstPeakSelectQps = 90;
  MODES.forEach((m, i) => PER_MODE.forEach((p, j) => (f[`${m}${p}`] = 100 * (i + 1) + j)));
  return f;
}
const stampedeRun = (): RunResult => ({
  ...sideRun('pattern'),
  id: 'E-008',
  audit: { figures: stampedeFigures(), ids: { lostBeforeTopic: [], notApplied: [], duplicateEffects: [], topicDuplicates: [], staleReads: [] } },
});

describe('reports readable anywhere', () => {
  it('draws outcome marks as inline SVG with their word, never as emoji', () => {
    const pass = badge('pass', 'as expected');
    expect(pass).to.match(/^<span class="badge pass"><svg [^>]*aria-label="as expected"/);
    expect(pass).to.include('as expected</span>');
    expect(expectedBadge('controlled')).to.include('badge pass').and.include('controlled');
    expect(expectedBadge('reproduced')).to.include('badge fail').and.include('reproduced');
  });

  it('renders report.html, pair.html and index.html without a single emoji mark', () => {
    const anti = sideRun('anti-pattern');
    const pattern = sideRun('pattern');
    const pages = [
      htmlReport(anti, noObservations('test')),
      pairHtml(pairOf([anti, pattern])),
      indexHtml([
        { result: anti, obs: noObservations('test'), href: 'anti-pattern/report.html' },
        { result: pattern, obs: noObservations('test'), href: 'pattern/report.html' },
      ]),
    ];
    for (const html of pages) {
      expect(html).to.not.match(EMOJI);
      expect(html).to.include('<svg class="badge-icon').and.include('.badge.pass{');
    }
    expect(pages[2]).to.include('controlled').and.include('reproduced');
  });

  it("draws the marks that come with the data (a probe's name, a rollback line) as SVG, outside tags only", () => {
    const anti = sideRun('anti-pattern', {
      probes: [{ name: '✅ lost = crashes', type: 'audit', expected: '= 3', observed: 3, ok: true }],
    });
    const html = htmlReport(anti, noObservations('test'));
    expect(html).to.not.match(EMOJI);
    expect(html).to.match(/<td><svg class="badge-icon pass"[^]*?<\/svg> lost = crashes<\/td>/);
    expect(markEmoji('<a title="✅">✅ ok</a>')).to.match(/^<a title="✅"><svg /);
  });

  it('groups per-mode figures into a table mode × figure and keeps the others as figures', () => {
    const g = groupFigures(stampedeFigures());
    expect(g.table?.modes).to.deep.equal(MODES);
    expect(g.table?.columns).to.deep.equal(PER_MODE);
    expect(g.table?.values.softTtl.P99Ms).to.equal(304);
    expect(g.rest.map(([k]) => k)).to.deep.equal([
      'keyExpiries',
      'readers',
      'dbLatencyMs',
      'worstDbLoadsPerKey',
      'worstPeakSelectQps',
    ]);
  });

  it('finds no table in figures that are not measured per mode', () => {
    const g = groupFigures({ committed: 57, lostBeforeTopic: 3, notApplied: 0, topicDuplicates: 1 });
    expect(g.table).to.equal(undefined);
    expect(g.rest).to.have.length(4);
  });

  it('names rows and columns in words and shows a mode left out (NaN, null in JSON) as a dash', () => {
    expect(words('DbLoadsPerKey')).to.equal('db loads per key');
    expect(words('P99Ms')).to.equal('p99 ms');
    expect(words('softTtl', '-')).to.equal('soft-ttl');
    const f: Record<string, number | null> = stampedeFigures();
    f.singleflightP99Ms = null;
    const html = figureTableHtml(groupFigures(f).table!, ['DbLoadsPerKey', 'P99Ms']);
    expect(html).to.include('<th>db loads per key</th><th>p99 ms</th>').and.not.include('p50');
    expect(html).to.include('<td><strong>soft-ttl</strong></td>');
    expect(html).to.match(/<td><strong>singleflight<\/strong><\/td><td class="num">202<\/td><td class="num"><span class="muted"/);
  });

  it("shows E-008's figures as a table per mode in report.html and index.html, not as camelCase names", () => {
    const r = stampedeRun();
    const report = htmlReport(r, noObservations('test'));
    const index = indexHtml([{ result: r, obs: noObservations('test'), href: 'report.html' }]);
    for (const html of [report, index]) {
      expect(html).to.include('<table class="figures">').and.include('<th>stale answers</th>');
      expect(html).to.not.include('noneP50Ms').and.not.include('softTtlStaleAnswers');
      expect(html).to.include('worstDbLoadsPerKey');
    }
  });
});
