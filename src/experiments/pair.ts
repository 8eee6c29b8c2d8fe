import type { Outcome, RunResult } from './engine';
import { worseOutcome } from './engine';
import type { FactName } from './facts';
import type { Compare, SideName } from './schema';

/**
 * What "the same fault schedule" means between two sides: the same steps fired in the same order, and the same
 * counts of what they did. Facts a pattern changes by design (a registry refusing a breaking schema) are left out.
 */
export const SCHEDULE_FACTS: readonly FactName[] = [
  'commandsSent',
  'crashes',
  'failpointsFired',
  'brokerKills',
  'clusterNodeKills',
  'slotsMoved',
  'toxicsAdded',
  'replays',
];

/** One `pair.compare` relation as judged: the pattern side's value against the anti-pattern side's. */
export interface Comparison {
  name: string;
  relation: Compare['pattern'];
  pattern: number | null;
  antiPattern: number | null;
  ok: boolean;
}

export interface PairResult {
  id: string;
  seed: number;
  /** the runs, in the order they ran (the file's own side first) */
  sides: RunResult[];
  /** both sides saw the same fault schedule (see SCHEDULE_FACTS) */
  sameSchedule: boolean;
  scheduleDifferences: string[];
  /** the file's `pair.compare` relations (a missing value fails) */
  comparisons: Comparison[];
  /** each side its own expected outcome, on the same schedule: completed; else the worst side's outcome */
  outcome: Outcome;
}

/** The fault steps of a run, by name, in the order they fired. */
export const faultSteps = (r: RunResult) =>
  r.timeline.filter((t) => t.kind === 'fault').map((t) => t.what.split(':')[0]);

const RELATIONS: Record<Compare['pattern'], (a: number, b: number) => boolean> = {
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  eq: (a, b) => a === b,
  ge: (a, b) => a >= b,
  gt: (a, b) => a > b,
};

/** A side's value for a comparison: its audit figure, or what its probe of that name observed. */
function valueOf(run: RunResult | undefined, c: Compare): number | null {
  if (!run) return null;
  if (c.figure !== undefined) return run.audit?.figures[c.figure] ?? null;
  return run.probes.find((p) => p.name === c.probe)?.observed ?? null;
}

function judge(sides: RunResult[], c: Compare): Comparison {
  const pattern = valueOf(
    sides.find((s) => s.side === 'pattern'),
    c,
  );
  const antiPattern = valueOf(
    sides.find((s) => s.side === 'anti-pattern'),
    c,
  );
  const ok = pattern !== null && antiPattern !== null && RELATIONS[c.pattern](pattern, antiPattern);
  return { name: c.name, relation: c.pattern, pattern, antiPattern, ok };
}

/**
 * Joins the sides of one experiment and seed: both must show their own outcome, under one fault schedule, and the
 * file's `pair.compare` relations must hold between them.
 */
export function pairOf(sides: RunResult[], compare: Compare[] = []): PairResult {
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
  const worst = sides.map((s) => s.outcome).reduce<Outcome>(worseOutcome, 'completed');
  const comparisons = compare.map((c) => judge(sides, c));
  // Two outcomes on different schedules prove nothing about the pattern: the pair deviates; so does a relation
  // between the sides that does not hold.
  const outcome =
    worst === 'completed' && (differences.length || comparisons.some((c) => !c.ok))
      ? 'deviated'
      : worst;
  return {
    id: first.id,
    seed: first.seed,
    sides,
    sameSchedule: differences.length === 0,
    scheduleDifferences: differences,
    comparisons,
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

export const SYMBOL: Record<Compare['pattern'], string> = {
  lt: '<',
  le: '≤',
  eq: '=',
  ge: '≥',
  gt: '>',
};

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
      `- ${sideLabel(s.side)} — ${s.title}: expected ${s.expected}, ${s.outcome}${s.error ? ` (${s.error.split('\n')[0]})` : ''}${s.outcome === 'inconclusive' && s.inconclusive?.length ? ` (could not tell: ${s.inconclusive.join('; ')})` : ''} — report \`${s.runId}\``,
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
  const relations = p.comparisons.map(
    (c) =>
      `- ${c.ok ? '✅' : '❌'} ${c.name}: pattern ${c.pattern ?? 'no data'} ${SYMBOL[c.relation]} anti-pattern ${c.antiPattern ?? 'no data'}`,
  );
  return [
    `# ${p.id} both ways (seed ${p.seed}): ${p.outcome === 'completed' ? 'each side as expected' : p.outcome}`,
    '',
    ...outcomes,
    ...(relations.length ? ['', 'Between the sides:', '', ...relations] : []),
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
