import type { Outcome, RunResult } from './engine';
import { OUTCOME_EXIT_CODES } from './engine';
import type { FactName } from './facts';
import type { SideName } from './schema';

/**
 * What "the same fault schedule" means between two sides: the same steps fired in the same order, and the same
 * counts of what they did. Facts a pattern changes by design (a registry refusing a breaking schema) are left out.
 */
export const SCHEDULE_FACTS: readonly FactName[] = [
  'commandsSent',
  'crashes',
  'failpointsFired',
  'brokerKills',
  'toxicsAdded',
  'replays',
];

export interface PairResult {
  id: string;
  seed: number;
  /** the runs, in the order they ran (the file's own side first) */
  sides: RunResult[];
  /** both sides saw the same fault schedule (see SCHEDULE_FACTS) */
  sameSchedule: boolean;
  scheduleDifferences: string[];
  /** each side its own expected outcome, on the same schedule: completed; else the worst side's outcome */
  outcome: Outcome;
}

/** The fault steps of a run, by name, in the order they fired. */
export const faultSteps = (r: RunResult) =>
  r.timeline.filter((t) => t.kind === 'fault').map((t) => t.what.split(':')[0]);

/** Joins the sides of one experiment and seed: both must show their own outcome, under one fault schedule. */
export function pairOf(sides: RunResult[]): PairResult {
  const [first, ...rest] = sides;
  const differences: string[] = [];
  for (const other of rest) {
    for (const fact of SCHEDULE_FACTS)
      if (first.facts[fact] !== other.facts[fact])
        differences.push(
          `${fact}: ${first.facts[fact]} (${first.side}) ≠ ${other.facts[fact]} (${other.side})`,
        );
    const [a, b] = [faultSteps(first), faultSteps(other)];
    if (a.join('\n') !== b.join('\n'))
      differences.push(
        `fault steps: [${a.join(', ')}] (${first.side}) ≠ [${b.join(', ')}] (${other.side})`,
      );
  }
  const worst = sides
    .map((s) => s.outcome)
    .reduce((w, o) => (OUTCOME_EXIT_CODES[o] > OUTCOME_EXIT_CODES[w] ? o : w), 'completed');
  // Two outcomes on different schedules prove nothing about the pattern: the pair deviates.
  const outcome = worst === 'completed' && differences.length ? 'deviated' : worst;
  return {
    id: first.id,
    seed: first.seed,
    sides,
    sameSchedule: differences.length === 0,
    scheduleDifferences: differences,
    outcome,
  };
}

export interface FigureRow {
  figure: string;
  /** per side, in `sides` order; undefined when that side has no such figure */
  values: (number | undefined)[];
  /** second side − first side, when both have it */
  difference?: number;
}

/** Figure × side: the audit figures, then the schedule facts, of every side. */
export function figureRows(p: PairResult): FigureRow[] {
  const names = [...new Set(p.sides.flatMap((s) => Object.keys(s.audit?.figures ?? {})))];
  const rows = names.map((figure) => {
    const values = p.sides.map((s) => s.audit?.figures[figure]);
    return withDifference(figure, values);
  });
  const facts = SCHEDULE_FACTS.map((fact) =>
    withDifference(
      `facts.${fact}`,
      p.sides.map((s) => s.facts[fact]),
    ),
  );
  return [...rows, ...facts];
}

function withDifference(figure: string, values: (number | undefined)[]): FigureRow {
  const [a, b] = values;
  return {
    figure,
    values,
    ...(a !== undefined && b !== undefined ? { difference: b - a } : {}),
  };
}

export const sideLabel = (side: SideName | undefined) =>
  side === 'pattern' ? '✅ pattern' : side === 'anti-pattern' ? '❌ anti-pattern' : 'run';

/** The pair as markdown: outcomes, figure × side, both fault schedules, the ids each side lost or doubled. */
export function pairMarkdown(p: PairResult): string {
  const head = `| figure | ${p.sides.map((s) => sideLabel(s.side)).join(' | ')} | difference |`;
  const rows = figureRows(p).map(
    (r) =>
      `| ${r.figure} | ${r.values.map((v) => (v === undefined ? '—' : String(v))).join(' | ')} | ${r.difference === undefined ? '' : r.difference > 0 ? `+${r.difference}` : String(r.difference)} |`,
  );
  const outcomes = p.sides.map(
    (s) =>
      `- ${sideLabel(s.side)} — ${s.title}: expected ${s.expected}, ${s.outcome}${s.error ? ` (${s.error.split('\n')[0]})` : ''} — report \`${s.runId}\``,
  );
  const schedules = p.sides.map(
    (s) =>
      `**${sideLabel(s.side)}**\n\n${
        s.timeline
          .filter((t) => t.kind === 'fault' || /died \(crash #/.test(t.what))
          .map((t) => `- ${(t.tMs / 1000).toFixed(1)} s ${t.what}`)
          .join('\n') || '- (no fault fired)'
      }`,
  );
  const ids = p.sides.flatMap((s) =>
    Object.entries(s.audit?.ids ?? {})
      .filter(([, list]) => Array.isArray(list) && list.length)
      .map(
        ([name, list]) =>
          `- ${sideLabel(s.side)} ${name}: ${(list as unknown[]).map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')}`,
      ),
  );
  return [
    `# ${p.id} both ways (seed ${p.seed}): ${p.outcome === 'completed' ? 'each side as expected' : p.outcome}`,
    '',
    ...outcomes,
    '',
    p.sameSchedule
      ? `Same fault schedule on both sides: ${SCHEDULE_FACTS.map((f) => `${f} ${p.sides[0].facts[f]}`).join(', ')}; the same steps in the same order.`
      : `**The sides saw different fault schedules** — the comparison proves nothing: ${p.scheduleDifferences.join('; ')}`,
    '',
    head,
    `|---|${p.sides.map(() => '---|').join('')}---|`,
    ...rows,
    '',
    '## Fault schedules',
    '',
    ...schedules.flatMap((s) => [s, '']),
    '## Event ids',
    '',
    ...(ids.length ? ids : ['- none lost, doubled or stale on either side']),
    '',
  ].join('\n');
}
