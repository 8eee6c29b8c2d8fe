import * as fs from 'node:fs';
import * as path from 'node:path';
import { figureRows, pairMarkdown, SCHEDULE_FACTS, sideLabel, SYMBOL, type PairResult } from '../experiments/pair';
import { escapeXml as h } from './escape';
import { page } from './html-page';

/**
 * pair.html of one experiment run both ways: each side's outcome (linking to its report.html in `<side>/`), one
 * table figure × side with the difference, and both fault schedules, which must match for the comparison to count.
 */
export function pairHtml(p: PairResult): string {
  const ok = p.outcome === 'completed';
  const cell = (v: number | undefined) => (v === undefined ? '<span class="muted">—</span>' : h(v));
  const rows = figureRows(p).map((r) => {
    const diff = r.difference === undefined || r.difference === 0 ? '' : r.difference > 0 ? `+${r.difference}` : String(r.difference);
    return `<tr><td>${h(r.figure)}</td>${r.values.map((v) => `<td>${cell(v)}</td>`).join('')}<td>${diff ? `<strong>${h(diff)}</strong>` : ''}</td></tr>`;
  });
  const sides = p.sides.map((s) => {
    const outcome = s.outcome === 'completed' ? '<span class="pass">as expected</span>' : `<span class="fail">${h(s.outcome.toUpperCase())}</span>`;
    const href = s.side ? `${s.side}/report.html` : 'report.html';
    return `<li><a href="${h(href)}"><strong>${h(sideLabel(s.side))}</strong></a> — ${h(s.title)}: expected ${h(s.expected)}, ${outcome} · ${h(s.probes.filter((x) => x.ok).length)}/${h(s.probes.length)} probes · ${h(s.durationSec.toFixed(0))} s</li>`;
  });
  const schedules = p.sides.map((s) => {
    const entries = s.timeline.filter((t) => t.kind === 'fault' || /died \(crash #/.test(t.what));
    return `<td><ul class="small">${entries.map((t) => `<li>${h((t.tMs / 1000).toFixed(1))} s ${h(t.what)}</li>`).join('') || '<li class="muted">no fault fired</li>'}</ul></td>`;
  });
  const body = [
    `<h1>${h(p.id)} both ways — seed ${h(p.seed)}</h1>`,
    `<div class="verdict ${ok ? 'ok' : 'bad'}">${ok ? 'each side showed its expected outcome, under the same fault schedule' : h(p.outcome.toUpperCase())}</div>`,
    `<ul>${sides.join('')}</ul>`,
    ...(p.comparisons.length
      ? [`<h2>Between the sides</h2><ul>${p.comparisons.map((c) => `<li>${c.ok ? '<span class="pass">✓</span>' : '<span class="fail">✗</span>'} ${h(c.name)}: pattern ${h(c.pattern ?? 'no data')} ${h(SYMBOL[c.relation])} anti-pattern ${h(c.antiPattern ?? 'no data')}</li>`).join('')}</ul>`]
      : []),
    p.sameSchedule
      ? `<p class="meta">Same fault schedule: ${h(SCHEDULE_FACTS.map((f) => `${f} ${p.sides[0].facts[f]}`).join(', '))}; the same steps in the same order. Only the pattern differs.</p>`
      : `<p class="fail">The sides saw different fault schedules — the comparison proves nothing: ${h(p.scheduleDifferences.join('; '))}</p>`,
    `<table><thead><tr><th>figure</th>${p.sides.map((s) => `<th>${h(sideLabel(s.side))}</th>`).join('')}<th>difference</th></tr></thead><tbody>`,
    ...rows,
    '</tbody></table>',
    '<h2>Fault schedules</h2>',
    `<table><thead><tr>${p.sides.map((s) => `<th>${h(sideLabel(s.side))}</th>`).join('')}</tr></thead><tbody><tr>${schedules.join('')}</tr></tbody></table>`,
  ];
  return page(`${p.id} both ways`, body.join('\n'));
}

/** pair.html, pair.md and pair.json beside the sides' directories. */
export function writePair(dir: string, p: PairResult): { html: string; markdown: string; json: string } {
  fs.mkdirSync(dir, { recursive: true });
  const files = { html: path.join(dir, 'pair.html'), markdown: path.join(dir, 'pair.md'), json: path.join(dir, 'pair.json') };
  fs.writeFileSync(files.html, pairHtml(p));
  fs.writeFileSync(files.markdown, pairMarkdown(p));
  fs.writeFileSync(files.json, JSON.stringify({ ...p, sides: p.sides.map((s) => ({ side: s.side, runId: s.runId, outcome: s.outcome })) }, null, 2));
  return files;
}
