import { badge, badgeIcon } from './badge';
import { atWarningOrAbove } from '../experiments/alert-rules';
import type { RunResult } from '../experiments/engine';
import { escapeXml as h } from './escape';

/**
 * One cell: `caught` (declared firing, fired), `missed` (declared firing, silent), `noise` (fired although listed
 * silent, or unlisted at warning or above on a ✅ side), `tolerated` (declared tolerated, fired), `unlisted` (fired,
 * judged by nothing: below warning, or on a ❌ side), `none` (did not fire, and was not required to),
 * `inconclusive` (declared firing, not seen, on a run the lab could not judge: not a miss, and said so).
 */
export type MatrixCell =
  | 'caught'
  | 'missed'
  | 'noise'
  | 'tolerated'
  | 'unlisted'
  | 'none'
  | 'inconclusive';

export interface MatrixRow {
  id: string;
  side?: string;
  seed: number;
  runId: string;
  expected: RunResult['expected'];
  /** the run could not be judged (outcome inconclusive): its silent cells prove nothing */
  inconclusive?: boolean;
  cells: Record<string, MatrixCell>;
}

export interface AlertMatrix {
  /** every alert a side declares or that fired during a run, by name */
  alerts: string[];
  /** one per experiment side: its latest run */
  rows: MatrixRow[];
  /**
   * ❌ sides caught by a declared `firing` alert at warning or above, of the ❌ sides judged: one not caught on an
   * inconclusive run is neither caught nor missed, and listed in `inconclusive`
   */
  recall: { caught: number; of: number; missed: string[]; inconclusive: string[] };
  /** unexpected alerts (warning or above) that fired on ✅ sides, one per side and alert name */
  noise: string[];
}

const rowName = (r: { id: string; side?: string }) => `${r.id}${r.side ? ` ${r.side}` : ''}`;

/** The latest run of each experiment side, in the order the sides first appear. */
function latestPerSide(results: RunResult[]): RunResult[] {
  const latest = new Map<string, RunResult>();
  for (const r of results) {
    const key = rowName(r);
    const seen = latest.get(key);
    if (!seen || Date.parse(r.startedAt) >= Date.parse(seen.startedAt)) latest.set(key, r);
  }
  return [...latest.values()];
}

function cell(r: RunResult, alert: string): MatrixCell {
  const x = r.alertExpectations;
  const fired = (r.alerts ?? []).filter((a) => a.alertname === alert && a.state === 'firing');
  const unknown =
    r.outcome === 'inconclusive' ||
    r.probes.some((p) => p.inconclusive && p.name === `alert ${alert} fires`);
  if (x?.firing.includes(alert)) return fired.length ? 'caught' : unknown ? 'inconclusive' : 'missed';
  if (!fired.length) return 'none';
  if (x?.tolerated.includes(alert)) return 'tolerated';
  return fired.some((a) => a.expectation === 'unexpected') ? 'noise' : 'unlisted';
}

/** Alert × experiment side over runs (their latest run per side): what each side declared, and what fired. */
export function alertMatrix(results: RunResult[]): AlertMatrix {
  const runs = latestPerSide(results);
  const names = new Set<string>();
  for (const r of runs) {
    const x = r.alertExpectations;
    for (const name of [...(x?.firing ?? []), ...(x?.silent ?? []), ...(x?.tolerated ?? [])])
      names.add(name);
    for (const a of r.alerts ?? []) if (a.state === 'firing') names.add(a.alertname);
  }
  const alerts = [...names].sort();
  const rows = runs.map((r) => ({
    id: r.id,
    ...(r.side ? { side: r.side } : {}),
    seed: r.seed,
    runId: r.runId,
    expected: r.expected,
    ...(r.outcome === 'inconclusive' ? { inconclusive: true } : {}),
    cells: Object.fromEntries(alerts.map((a) => [a, cell(r, a)])),
  }));
  const severityOf = (r: RunResult, alert: string) =>
    (r.alerts ?? []).find((a) => a.alertname === alert && a.severity)?.severity;
  const reproduced = runs.filter((r) => r.expected === 'reproduced');
  const caught = (r: RunResult) =>
    alerts.some((a) => cell(r, a) === 'caught' && atWarningOrAbove(severityOf(r, a)));
  const unjudged = reproduced.filter((r) => !caught(r) && r.outcome === 'inconclusive');
  const judged = reproduced.filter((r) => !unjudged.includes(r));
  const noise = runs
    .filter((r) => r.expected === 'controlled')
    .flatMap((r) =>
      alerts
        .filter((a) => cell(r, a) === 'noise' && atWarningOrAbove(severityOf(r, a)))
        .map((a) => `${rowName(r)}: ${a}`),
    );
  return {
    alerts,
    rows,
    recall: {
      caught: judged.filter(caught).length,
      of: judged.length,
      missed: judged.filter((r) => !caught(r)).map(rowName),
      inconclusive: unjudged.map(rowName),
    },
    noise,
  };
}

/** Words first, an inline SVG mark beside them: no font is needed to read a cell. */
const CELL_HTML: Record<MatrixCell, string> = {
  caught: `<span class="pass">expected ${badgeIcon('pass', 'fired')} fired</span>`,
  missed: `<span class="fail">expected ${badgeIcon('fail', 'silent')} silent</span>`,
  noise: '<span class="fail">fired (unexpected)</span>',
  tolerated: '<span class="muted">fired (tolerated)</span>',
  unlisted: '<span class="muted">fired (not declared)</span>',
  none: '<span class="muted">—</span>',
  inconclusive: `<span class="inconclusive">expected ${badgeIcon('unknown', 'not judged')} not judged (inconclusive run)</span>`,
};

/** An alert name that may break before each capital (LabKafka…Partitions is wider than its cells). */
const breakable = (name: string) => h(name).replace(/(?<=[a-z])(?=[A-Z])/g, '<wbr>');

function rowHtml(m: AlertMatrix, r: MatrixRow): string {
  const side = `<strong>${h(r.id)}</strong> ${h(r.side ?? 'run')}`;
  const unknown = r.inconclusive ? ` ${badge('unknown', 'inconclusive')}` : '';
  const meta = `<span class="muted small">(${h(r.expected)}) · seed ${h(r.seed)}</span>${unknown}`;
  const cells = m.alerts.map((a) => `<td class="small">${CELL_HTML[r.cells[a]]}</td>`);
  return `<tr><td class="side">${side} ${meta}</td>${cells.join('')}</tr>`;
}

/** The matrix as an HTML table (scrolling sideways when wider than the page), with recall and noise under it. */
export function alertMatrixHtml(m: AlertMatrix): string {
  if (!m.rows.length) return '<p class="muted">No run to show.</p>';
  const head = m.alerts.map((a) => `<th class="small">${breakable(a)}</th>`).join('');
  const table = m.alerts.length
    ? `<div style="overflow-x:auto"><table class="matrix"><thead><tr><th>experiment side</th>${head}</tr></thead><tbody>${m.rows.map((r) => rowHtml(m, r)).join('')}</tbody></table></div>`
    : '<p class="muted">No side declares an alert, and none fired.</p>';
  const missed = m.recall.missed.length ? ` — not caught: ${h(m.recall.missed.join(', '))}` : '';
  const unjudged = m.recall.inconclusive.length
    ? `; <span class="inconclusive">${m.recall.inconclusive.length} not judged (inconclusive, neither caught nor missed): ${h(m.recall.inconclusive.join(', '))}</span>`
    : '';
  const recall = m.recall.of || m.recall.inconclusive.length
    ? `<strong>${m.recall.caught}/${m.recall.of}</strong> reproduced (anti-pattern) sides caught by a declared alert at warning or above${missed}${unjudged}`
    : 'no reproduced side among these runs';
  const noisy = m.noise.length ? ` — ${h(m.noise.join('; '))}` : '';
  const noise = `<strong>${m.noise.length}</strong> unexpected alert(s) at warning or above fired on controlled (pattern) sides${noisy}`;
  return `${table}\n<p>Recall: ${recall}.<br>Noise: ${noise}.</p>`;
}
