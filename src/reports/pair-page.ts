import * as fs from 'node:fs';
import * as path from 'node:path';
import { figureRows, pairMarkdown, SCHEDULE_FACTS, SYMBOL, type PairResult } from '../experiments/pair';
import type { RunResult } from '../experiments/engine';
import { badgeIcon, outcomeBadge, outcomeTone, sideBadge, sideText } from './badge';
import { escapeXml as h } from './escape';
import { alertLines, carriedOverHtml, page, reasonsHtml, VERDICT_CLASS } from './html-page';
import { alertsOfRun } from './run-alerts';
import { svgPlot } from './svg-plot';
import type { Observations, Plot } from './types';

/**
 * One plot per title either side drew, both sides' series on the same axes (x: seconds since that side's own start,
 * so the same fault schedule lines up), each series named by its side. A title only one side has is kept: its
 * absence on the other side is part of the comparison.
 */
export function pairPlots(sides: { run: RunResult; plots: Plot[] }[]): Plot[] {
  const byTitle = new Map<string, Plot>();
  for (const { run, plots } of sides)
    for (const plot of plots) {
      const merged = byTitle.get(plot.title) ?? { title: plot.title, unit: plot.unit, series: [] };
      merged.series.push(
        ...plot.series.map((x) => ({ name: `${sideText(run.side)}: ${x.name}`, points: x.points })),
      );
      byTitle.set(plot.title, merged);
    }
  return [...byTitle.values()].filter((p) => p.series.length);
}

/** Per side, the alerts that count for its run; those carried over from earlier runs on one grey line, collapsed. */
function alertsRow(p: PairResult, observations: (Observations | undefined)[]): string {
  const cells = p.sides.map((s, i) => {
    const { counted, carriedOver } = alertsOfRun(s, observations[i]?.alerts ?? []);
    const own = counted.length ? alertLines(counted) : '<span class="muted">none</span>';
    return `<td class="small">${own}${carriedOverHtml(carriedOver, alertLines(carriedOver))}</td>`;
  });
  return `<table><thead><tr>${p.sides.map((s) => `<th>${sideBadge(s.side)}</th>`).join('')}</tr></thead><tbody><tr>${cells.join('')}</tr></tbody></table>`;
}

/** A side's line: its outcome, probes and time, and why the lab could not tell when it could not. */
function sideLine(s: RunResult): string {
  const href = s.side ? `${s.side}/report.html` : 'report.html';
  const reasons = s.outcome === 'inconclusive' ? reasonsHtml(s, 'small reasons inconclusive') : '';
  return `<li><a href="${h(href)}">${sideBadge(s.side)}</a> — ${h(s.title)}: expected ${h(s.expected)}, ${outcomeBadge(s.outcome)} · ${h(s.probes.filter((x) => x.ok).length)}/${h(s.probes.length)} probes · ${h(s.durationSec.toFixed(0))} s${reasons}</li>`;
}

/** The pair's verdict line: as expected, or the worst side's outcome — amber when a side could not be judged. */
function pairVerdict(p: PairResult): string {
  const words =
    p.outcome === 'completed'
      ? 'each side showed its expected outcome, under the same fault schedule'
      : p.outcome === 'inconclusive'
        ? `INCONCLUSIVE: the lab could not tell for ${p.sides.filter((s) => s.outcome === 'inconclusive').map((s) => sideText(s.side)).join(' and ') || 'a side'} (reasons under each side)`
        : p.outcome.toUpperCase();
  return `<div class="verdict ${VERDICT_CLASS[outcomeTone(p.outcome)]}">${h(words)}</div>`;
}

/**
 * pair.html of one experiment run both ways: each side's outcome (linking to its report.html in `<side>/`), one
 * table figure × side with the difference, and both fault schedules, which must match for the comparison to count.
 */
export function pairHtml(p: PairResult, observations: (Observations | undefined)[] = []): string {
  const cell = (v: number | undefined) => (v === undefined ? '<span class="muted">—</span>' : h(v));
  const rows = figureRows(p).map((r) => {
    const diff = r.difference === undefined || r.difference === 0 ? '' : r.difference > 0 ? `+${r.difference}` : String(r.difference);
    return `<tr><td>${h(r.figure)}</td>${r.values.map((v) => `<td>${cell(v)}</td>`).join('')}<td>${diff ? `<strong>${h(diff)}</strong>` : ''}</td></tr>`;
  });
  const sides = p.sides.map(sideLine);
  const schedules = p.sides.map((s) => {
    const entries = s.timeline.filter((t) => t.kind === 'fault' || /died \(crash #/.test(t.what));
    return `<td><ul class="small">${entries.map((t) => `<li>${h((t.tMs / 1000).toFixed(1))} s ${h(t.what)}</li>`).join('') || '<li class="muted">no fault fired</li>'}</ul></td>`;
  });
  // What Prometheus saw (when the sides were observed), then the workloads' own measurements, both sides per plot.
  const prometheusPlots = pairPlots(p.sides.map((run, i) => ({ run, plots: observations[i]?.plots ?? [] })));
  const workloadPlots = pairPlots(p.sides.map((run) => ({ run, plots: run.audit?.plots ?? [] })));
  const xDomain: [number, number] = [0, Math.max(1, ...p.sides.map((s) => s.durationSec))];
  const plots = [
    ...prometheusPlots.map((x) => svgPlot(x, { xDomain })),
    ...workloadPlots.map((x) => svgPlot(x)),
  ];
  const body = [
    `<h1>${h(p.id)} both ways — seed ${h(p.seed)}</h1>`,
    pairVerdict(p),
    `<ul>${sides.join('')}</ul>`,
    ...(p.comparisons.length
      ? [`<h2>Between the sides</h2><ul>${p.comparisons.map((c) => `<li>${badgeIcon(c.ok ? 'pass' : 'fail', c.ok ? 'holds' : 'does not hold')} ${h(c.name)}: pattern ${h(c.pattern ?? 'no data')} ${h(SYMBOL[c.relation])} anti-pattern ${h(c.antiPattern ?? 'no data')}</li>`).join('')}</ul>`]
      : []),
    p.sameSchedule
      ? `<p class="meta">Same fault schedule: ${h(SCHEDULE_FACTS.map((f) => `${f} ${p.sides[0].facts[f]}`).join(', '))}; the same steps in the same order. Only the pattern differs.</p>`
      : `<p class="fail">The sides saw different fault schedules — the comparison proves nothing: ${h(p.scheduleDifferences.join('; '))}</p>`,
    `<table><thead><tr><th>figure</th>${p.sides.map((s) => `<th>${sideBadge(s.side)}</th>`).join('')}<th>difference</th></tr></thead><tbody>`,
    ...rows,
    '</tbody></table>',
    '<h2>Alerts</h2>',
    '<p class="muted">Each side\'s alerts that count for its run (labelled with its run id or topic, or cluster-wide and active since its reset); each side\'s report.html says what its judgement made of them.</p>',
    alertsRow(p, observations),
    '<h2>Fault schedules</h2>',
    `<table><thead><tr>${p.sides.map((s) => `<th>${sideBadge(s.side)}</th>`).join('')}</tr></thead><tbody><tr>${schedules.join('')}</tr></tbody></table>`,
    '<h2>Both sides on the same axes</h2>',
    '<p class="muted">x: seconds since each side started (the same fault schedule, so the faults line up); each series is named by its side. Each side\'s report.html has the same plots with its fault markers.</p>',
    ...(plots.length ? plots : ['<p class="muted">No series was recorded for these runs.</p>']),
  ];
  return page(`${p.id} both ways`, body.join('\n'));
}

/** pair.html, pair.md and pair.json beside the sides' directories. */
export function writePair(
  dir: string,
  p: PairResult,
  observations: (Observations | undefined)[] = [],
): { html: string; markdown: string; json: string } {
  fs.mkdirSync(dir, { recursive: true });
  const files = { html: path.join(dir, 'pair.html'), markdown: path.join(dir, 'pair.md'), json: path.join(dir, 'pair.json') };
  fs.writeFileSync(files.html, pairHtml(p, observations));
  fs.writeFileSync(files.markdown, pairMarkdown(p));
  fs.writeFileSync(files.json, JSON.stringify({ ...p, sides: p.sides.map((s) => ({ side: s.side, runId: s.runId, outcome: s.outcome })) }, null, 2));
  return files;
}
