import type { RunResult } from '../experiments/engine';
import { headline, inconclusiveReasons, rollbackLines } from '../experiments/report';
import { escapeXml as h } from './escape';
import { alertsJudged, alertState, countedAs } from './alerts';
import { badgeIcon, BADGE_CSS, expectedBadge, markEmoji, outcomeBadge, outcomeTone, probeTone } from './badge';
import { figureTableHtml, groupFigures } from './figure-groups';
import { markdownToHtml } from './markdown';
import { alertsOfRun, byName, carriedOverSummary } from './run-alerts';
import { svgPlot } from './svg-plot';
import { timelineMarkers } from './timeline';
import type { FiredAlert, Observations, RunAlert } from './types';

/** The page's whole style: the report is one file, mailed or archived by CI, with no external asset. */
export const REPORT_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1000px;padding:16px 24px;color:#1b1b1b}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3,h4,h5{font-size:15px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f5f5f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.q{max-width:320px;word-break:break-all;font-size:12px}code{background:#f3f3f3;padding:0 3px;border-radius:3px;font-size:12.5px}
pre{background:#f6f8fa;padding:8px;overflow:auto}
.verdict{padding:10px 14px;border-radius:6px;margin:10px 0;font-weight:600}.ok{background:#e8f5e9;border:1px solid #81c784}.bad{background:#ffebee;border:1px solid #e57373}.unknown{background:#fff3e0;border:1px solid #ffb74d}
ul.reasons{margin:4px 0 0;font-weight:normal}.inconclusive{color:#a15c00;font-weight:600}
details.carried{color:#888;font-size:12px;margin:4px 0}details.carried summary{cursor:pointer}details.carried .sev-critical,details.carried .sev-warning,details.carried .sev-info{color:#888;font-weight:normal}
.meta{color:#555}.muted{color:#777}.pass{color:#2e7d32}.fail{color:#c62828;font-weight:600}
.sev-critical{color:#c62828;font-weight:600}.sev-warning{color:#e65100}.sev-info{color:#1565c0}
svg.plot{display:block;margin:6px 0 14px;max-width:100%;height:auto}
svg .pt{font-size:13px;font-weight:600;fill:#222}svg .pa,svg .pl{font-size:10px;fill:#555}svg .pm{font-size:9px;font-weight:700}
svg .pe{font-size:12px;fill:#999}svg .pf{fill:#fcfcfc;stroke:#ddd}svg .pg{stroke:#eee}svg .pb{fill:#e3f2fd;opacity:.6}
ol.timeline li.fault{color:#c62828}ol.timeline li.crash{color:#7b1fa2}ol.timeline li.heal{color:#2e7d32}
table.figures td:first-child{white-space:nowrap}
${BADGE_CSS}
`;

export const fmtSec = (s: number | undefined) => (s === undefined ? '' : `${s < 0 ? '−' : '+'}${Math.abs(s).toFixed(1)} s`);

const COUNTED_CLASS: Record<string, string> = { expected: 'pass', unexpected: 'fail', 'not counted': 'muted' };

/** `counted`: the run's judged alerts (RunResult.alerts), for a column saying what each row counted as. */
export function alertsTable(alerts: FiredAlert[], counted?: RunAlert[]): string {
  if (!alerts.length) return '<p class="muted">No alert of this run was pending or firing.</p>';
  const rows = alerts.map((a) => {
    const labels = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', ');
    const before = a.activeSinceEpochSec !== undefined && (a.pendingAtSec ?? 0) <= 0 ? ' (already active when the run started)' : '';
    const as = counted && countedAs(a, counted);
    return `<tr><td><strong>${h(a.alertname)}</strong></td><td class="sev-${h(a.severity ?? '')}">${h(a.severity ?? '')}</td><td>${h(alertState(a))}</td><td>${h(fmtSec(a.pendingAtSec))}${h(before)}</td><td>${h(fmtSec(a.firingAtSec))}</td><td>${h(fmtSec(a.lastSeenSec))}</td><td>${h(labels)}</td>${as ? `<td class="${COUNTED_CLASS[as] ?? ''}">${h(as)}</td>` : ''}</tr>`;
  });
  return `<table><thead><tr><th>alert</th><th>severity</th><th>reached</th><th>pending at</th><th>firing at</th><th>last active</th><th>labels</th>${counted ? '<th>for this run</th>' : ''}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The verdict's class: green, red, or amber when the lab could not tell. */
export const VERDICT_CLASS = { pass: 'ok', fail: 'bad', unknown: 'unknown' } as const;

const PROBE_CLASS = { pass: 'pass', fail: 'fail', unknown: 'inconclusive' } as const;

/** One line per alert name (its earliest instance): name in its severity's colour, state reached, when. */
export const alertLines = (alerts: FiredAlert[]) =>
  byName(alerts)
    .map((a) => `<span class="sev-${h(a.severity ?? '')}">${h(a.alertname)}</span> ${h(alertState(a))} ${h(fmtSec(a.firingAtSec ?? a.pendingAtSec))}`)
    .join('<br>');

/** Carried-over alerts: one grey line, collapsed (they are not this run's; nothing judged them). */
export function carriedOverHtml(carried: FiredAlert[], inner: string): string {
  return carried.length ? `<details class="carried"><summary>${h(carriedOverSummary(carried))}</summary>${inner}</details>` : '';
}

function verdictRows(r: RunResult): string {
  return r.probes.map((p) => {
    const cross = p.crossCheck ? `${p.crossCheck.ok ? 'agrees' : '<span class="fail">disagrees</span>'} with audit.${h(p.crossCheck.audit)} = ${h(p.crossCheck.auditValue)}` : '';
    return `<tr><td class="${PROBE_CLASS[probeTone(p)]}">${badgeIcon(probeTone(p))}</td><td>${h(p.name)}</td><td>${h(p.type)}</td><td>${h(p.expected)}</td><td class="num">${p.observed === null ? `<span class="${p.inconclusive ? 'inconclusive' : 'fail'}">error</span>` : h(p.observed)}</td><td>${cross}</td>${p.type === 'alert' ? `<td>${h(p.detail ?? '')}</td>` : `<td class="q"><code>${h(p.detail ?? '')}</code></td>`}</tr>`;
  }).join('');
}

function auditBlock(r: RunResult): string {
  const a = r.audit;
  if (!a) return '<p class="muted">The audit did not run.</p>';
  // A scenario's per-mode figures as one table mode × figure, the others as name/value rows.
  const grouped = groupFigures(a.figures);
  const figures = `${grouped.table ? figureTableHtml(grouped.table) : ''}<table><tbody>${grouped.rest.map(([k, v]) => `<tr><td>${h(k)}</td><td class="num">${h(v)}</td></tr>`).join('')}</tbody></table>`;
  const ids = a.ids ?? { lostBeforeTopic: [], notApplied: [], duplicateEffects: [], topicDuplicates: [], staleReads: [] };
  const list = (title: string, items: string[]) => (items.length ? `<h4>${h(title)}</h4><ul>${items.map((x) => `<li><code>${h(x)}</code></li>`).join('')}</ul>` : '');
  return figures
    + list('Lost event ids (committed, never in the topic)', ids.lostBeforeTopic)
    + list('Event ids in the topic but never applied', ids.notApplied)
    + list('Event ids applied more than once', ids.duplicateEffects.map((d) => `${d.eventId} × ${d.applied}`))
    + list('Stale reads (product: served / committed version)', ids.staleReads.map((s) => `${s.productId}: ${s.served} / ${s.committed}`))
    + list('Events out of per-key order (product: version, after version)', (ids.reordered ?? []).map((r) => `${r.eventId} — ${r.productId}: v${r.version} after v${r.after}`))
    + list('Read model went backwards (product: from → to version)', (ids.viewBackwards ?? []).map((r) => `${r.productId}: v${r.from} → v${r.to}`));
}

/** Of a per-mode table, the columns a reader looks at first (all of them in the audit section). */
export const KEY_MODE_COLUMNS = ['DbLoadsPerKey', 'P50Ms', 'P99Ms', 'StaleAnswers', 'Errors'];

/**
 * The verdict line: the outcome and the expected outcome as badges, then the figures — the headline of report.md
 * without its emoji, and for a scenario measured per mode its table instead of every `<mode><Figure>` name.
 */
export function verdictHtml(r: RunResult): string {
  const ok = r.outcome === 'completed';
  const unknown = r.outcome === 'inconclusive';
  const outcome = outcomeBadge(r.outcome, false);
  const line = headline(r)
    .replace(/[✅❌] ?/gu, '')
    .replace(/^\S+ /, '');
  // The figures follow the last dash: a reason or an error in the verdict's words may hold one too.
  const cut = line.lastIndexOf(' — ');
  const [verdict, figures] = [line.slice(0, cut), [line.slice(cut + 3)]];
  const grouped =
    r.audit && !('committed' in r.audit.figures) ? groupFigures(r.audit.figures) : undefined;
  const figureText = grouped?.table
    ? grouped.rest.map(([k, v]) => `${k} ${v}`).join(', ')
    : figures.join(' — ');
  // The badges say the verdict when it is the expected one; otherwise its words carry the detail (what was left).
  // Inconclusive: its reasons are listed under the line, not repeated in it.
  const text = ok ? figureText : `${unknown ? 'the lab could not tell' : verdict} — ${figureText}`;
  const reasons = unknown ? reasonsHtml(r) : '';
  return `<div class="verdict ${VERDICT_CLASS[outcomeTone(r.outcome)]}">${h(r.id)} ${outcome} ${expectedBadge(r.expected)} — ${h(text)}${reasons}${grouped?.table ? figureTableHtml(grouped.table, KEY_MODE_COLUMNS) : ''}</div>`;
}

/** Why an inconclusive run could not be judged, as a list (under a verdict line, in an index row). */
export function reasonsHtml(r: Pick<RunResult, 'inconclusive'>, cls = 'reasons'): string {
  return `<ul class="${cls}">${inconclusiveReasons(r).map((x) => `<li>${h(x)}</li>`).join('')}</ul>`;
}

/**
 * report.html of one run: verdict, alerts, plots of the key series with the fault timeline as numbered markers,
 * the scenario's own sections and plots, audit figures, facts and the timeline. One file: inline CSS and SVG.
 */
export function htmlReport(r: RunResult, obs: Observations): string {
  const t0 = Date.parse(r.startedAt) / 1000;
  const markers = timelineMarkers(r.timeline);
  const xDomain: [number, number] = [0, Math.max(r.durationSec, obs.window.endSec - t0, 1)];
  const band = { from: r.window.startSec - t0, to: r.window.endSec - t0, label: 'workload and settling (the verdict window)' };
  const ok = r.outcome === 'completed';
  const alerts = alertsOfRun(r, obs.alerts);
  const scenarioPlots = r.audit?.plots ?? [];
  // A scenario's plots count seconds from its own start, which is the verdict window's start.
  const scenarioMarkers = timelineMarkers(r.timeline, r.window.startSec - t0);
  const plots = obs.plots.filter((p) => p.series.length).map((p) => svgPlot(p, { xDomain, markers, band }));
  const body = [
    `<h1>${h(r.id)} — ${h(r.title)}</h1>`,
    verdictHtml(r),
    `<p class="meta">run <code>${h(r.runId)}</code> · seed ${h(r.seed)} · started ${h(r.startedAt)} · ${h(r.durationSec.toFixed(1))} s · outcome <strong>${h(r.outcome)}</strong> · topic <code>${h(r.topic)}</code> · group <code>${h(r.consumerGroup)}</code></p>`,
    ...(r.error ? [`<p class="fail">Error: ${h(r.error)}</p>`] : []),
    '<h2>Verdict</h2>',
    `<table><thead><tr><th></th><th>probe</th><th>source</th><th>expected</th><th>observed</th><th>cross-check</th><th>query, figure or alert detail</th></tr></thead><tbody>${verdictRows(r)}</tbody></table>`,
    '<h2>Alerts during the run</h2>',
    alertsTable(alerts.counted, alertsJudged(r) ? r.alerts : undefined),
    carriedOverHtml(alerts.carriedOver, alertsTable(alerts.carriedOver)),
    '<p class="muted">From Prometheus <code>ALERTS</code> / <code>ALERTS_FOR_STATE</code> over the run window (rules in prometheus/rules/*.yml, evaluated every second); times are since the run started. Only the alerts that count for the run are listed: labelled with its run id or topic, or — cluster-wide ones — active since its reset; the verdict table judges them against the side\'s <code>alerts:</code>. Those seen in the window but left by start-up or an earlier run are on the grey line, judged by nothing.</p>',
    '<h2>What Prometheus saw</h2>',
    '<p class="muted">Dashed lines are the numbered timeline entries below (red: fault, purple: crash, green: rollback, grey: phase); the shaded band is the verdict window.</p>',
    ...(plots.length ? plots : ['<p class="muted">No series was recorded for this run.</p>']),
    ...(obs.empty.length ? [`<details><summary>${obs.empty.length} series had no sample in this run</summary><ul>${obs.empty.map((e) => `<li>${h(e.title)}: <code>${h(e.query)}</code></li>`).join('')}</ul></details>`] : []),
    ...(obs.errors.length ? [`<p class="fail">Missing observations:</p><ul>${obs.errors.map((e) => `<li>${h(e)}</li>`).join('')}</ul>`] : []),
    ...(scenarioPlots.length ? ['<h2>Scenario measurements</h2>', ...scenarioPlots.map((p) => svgPlot(p, { markers: scenarioMarkers }))] : []),
    ...(r.audit?.sections ?? []).flatMap((s) => [`<h2>${h(s.title)}</h2>`, markdownToHtml(s.markdown)]),
    '<h2>Audit (independent of service metrics)</h2>',
    auditBlock(r),
    '<h2>Run facts</h2>',
    `<table><tbody>${Object.entries(r.facts).map(([k, v]) => `<tr><td>${h(k)}</td><td class="num">${h(v)}</td></tr>`).join('')}</tbody></table>`,
    `<p>workload: ${h(r.workload.ok)}/${h(r.workload.sent)} accepted, ${h(r.workload.failed)} failed, ${h(r.workload.retried)} re-sent after connection refused</p>`,
    '<h2>Rollbacks</h2>',
    markdownToHtml(rollbackLines(r).join('\n')),
    '<h2>Timeline</h2>',
    `<ol class="timeline">${r.timeline.map((t, i) => `<li class="${markers.find((m) => m.n === i + 1)?.kind ?? ''}">+${h((t.tMs / 1000).toFixed(1))} s — ${h(t.what)}</li>`).join('')}</ol>`,
    '<p class="muted">Files beside this page: journal.json (the run), prometheus.json (the series above), junit.xml, report.md. Re-render with <code>chaos report &lt;dir&gt;</code>.</p>',
  ];
  return page(`${r.id} ${ok ? 'as expected' : r.outcome} — ${r.title}`, body.join('\n'));
}

export function page(title: string, body: string): string {
  // Marks that came with the data (experiment files' probe names, report.md's rollback lines) as SVG, too.
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${h(title)}</title><style>${REPORT_CSS}</style></head><body>\n${markEmoji(body)}\n</body></html>\n`;
}
