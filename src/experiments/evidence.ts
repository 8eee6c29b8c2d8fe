import { faultKind } from '../chaos/faults';
import { FACT_NAMES, type FactName } from './facts';
import type { Experiment, Probe, SideName, Step } from './schema';

/**
 * The evidence gate: a side's verdict may pass only if at least one of its probes cannot pass on an idle system —
 * one where the fault never struck and nothing happened. There every figure and series reads 0 (or is absent), an
 * audit reference or a fact may be 0, and only the facts the side's steps must raise are at least 1 (a zero one
 * makes the run inconclusive). A probe counts when its tolerance fails under every such reading.
 */

/**
 * Kinds whose facts depend on their attributes: what one step of the kind always raises (read from each kind's
 * `apply`). Every other kind always raises all the facts it declares.
 */
const ALWAYS_RAISED: Partial<Record<string, (fault: Step['fault']) => FactName[]>> = {
  // pause, resume and restart raise nothing; only a kill counts brokerKills
  broker: (f) => (f.type === 'broker' && f.action === 'kill' ? ['brokerKills'] : []),
  // a dry run only counts the DLQ
  replay: (f) => (f.type === 'replay' && !f.dryRun ? ['replays'] : []),
  // schemaRejected is an answer (409 to an incompatible schema), not something every registration raises
  'registry-register': () => [],
  // arming raises nothing: the services report each firing, and the engine sums them
  failpoint: () => ['failpointsFired'],
};

/** Facts that the given fault steps must raise above 0 — a zero one means a fault never took effect (the engine makes the run inconclusive). */
export function requiredFacts(steps: readonly Step[]): FactName[] {
  const raised = new Set<FactName>();
  for (const { fault } of steps)
    for (const fact of ALWAYS_RAISED[fault.type]?.(fault) ?? faultKind(fault.type).facts)
      raised.add(fact);
  return FACT_NAMES.filter((f) => raised.has(f));
}

/** `or vector(0)`, `or on() vector(0)`, any spacing: "no data" made a number (the loader refuses it outright). */
export const OR_VECTOR = /\bor\b[\s\S]*?\bvector\s*\(/i;
/** PromQL that yields a value from no data — `or … vector(…)`, `absent(x)` — and so does on an idle run. */
const MADE_UP_VALUE = new RegExp(`${OR_VECTOR.source}|\\babsent(_over_time)?\\s*\\(`, 'i');

type Bound = number | string;
/** The range a reference or number may take on an idle system. */
type Range = [lo: number, hi: number];

function idleRange(ref: Bound, required: ReadonlySet<string>): Range {
  if (typeof ref === 'number') return [ref, ref];
  const [scope, name] = ref.split('.');
  return scope === 'facts' && required.has(name) ? [1, Infinity] : [0, Infinity];
}

/** Whether the tolerance can hold for `value` with references anywhere in their idle ranges. */
function passesAt(value: number, t: Probe['tolerance'], required: ReadonlySet<string>): boolean {
  const r = (ref: Bound) => idleRange(ref, required);
  if ('eq' in t) return r(t.eq)[0] <= value && value <= r(t.eq)[1];
  if ('gt' in t) return value > r(t.gt)[0];
  if ('ge' in t) return value >= r(t.ge)[0];
  if ('lt' in t) return value < r(t.lt)[1];
  if ('le' in t) return value <= r(t.le)[1];
  return r(t.between[0])[0] <= value && value <= r(t.between[1])[1];
}

/**
 * Why a probe is no evidence, or undefined when it is. `quiet`: a probe nobody meant as evidence (`lt`, `le`,
 * `eq: 0`, `between: [0, 0]`), left out of the loader's list of near misses.
 */
export function whyNoEvidence(
  probe: Probe,
  required: ReadonlySet<string>,
): { why: string; quiet: boolean } | undefined {
  const [op, bound] = Object.entries(probe.tolerance)[0] as [string, Bound | Bound[]];
  const bounds = [bound].flat();
  const shown = `${op}: ${Array.isArray(bound) ? `[${bound.join(', ')}]` : bound}`;
  if (probe.type === 'promql' && MADE_UP_VALUE.test(probe.query))
    return {
      why: 'its query makes a value out of no data (or … vector(…), absent(…))',
      quiet: false,
    };
  if (passesAt(0, probe.tolerance, required)) {
    const quiet = op === 'lt' || op === 'le' || bounds.every((b) => b === 0);
    return { why: `${shown} holds at 0${idleRefs(bounds, required)}`, quiet };
  }
  if (
    probe.type === 'promql' &&
    probe.absent &&
    passesAt(probe.absent.value, probe.tolerance, required)
  )
    return {
      why: `${shown} holds for absent.value ${probe.absent.value}, with no series`,
      quiet: false,
    };
  return undefined;
}

/** The references in a bound that an idle run leaves at 0, said why. */
function idleRefs(bounds: Bound[], required: ReadonlySet<string>): string {
  const why = bounds
    .filter((b): b is string => typeof b === 'string')
    .filter((ref) => ref.startsWith('audit.') || !required.has(ref.slice('facts.'.length)))
    .map((ref) =>
      ref.startsWith('audit.')
        ? `${ref} may be 0 too`
        : `${ref} is no fact this side's steps must raise, so it may be 0 too`,
    );
  return why.length ? ` (${why.join('; ')})` : '';
}

export interface SideEvidence {
  /** the side loaded, or undefined in a file without sides */
  side?: SideName;
  expected: Experiment['expected'];
  steps: readonly Step[];
  /** this side's probes, each with its line in the file */
  probes: readonly { probe: Probe; line?: number }[];
}

/** The loader's problem when no probe of the side is evidence (`at`: "line N: " of the probes), else undefined. */
export function evidenceProblem(s: SideEvidence, at = ''): string | undefined {
  const required = requiredFacts(s.steps);
  const set: ReadonlySet<string> = new Set(required);
  const misses = s.probes.map(({ probe, line }) => ({
    probe,
    line,
    miss: whyNoEvidence(probe, set),
  }));
  if (misses.some((m) => !m.miss)) return undefined;
  const who = s.side ? `the ${s.side} side` : 'this experiment';
  const what =
    s.expected === 'reproduced' ? 'the anomaly really happened' : 'its fault really struck';
  const facts = required.length
    ? `, or \`eq\`/\`ge\` against ${required.map((f) => `facts.${f}`).join(' / ')} (what its steps must raise)`
    : '';
  const notCounted = misses.flatMap(({ probe, line, miss }) =>
    miss && !miss.quiet ? [`"${probe.name}"${line ? ` (line ${line})` : ''}: ${miss.why}`] : [],
  );
  return (
    `${at}steady-state-hypothesis.probes: ${who} has no probe that shows ${what} — each passes on an idle run. ` +
    `Counts: \`gt: 0\` on an audit figure or a PromQL series the fault causes${facts}` +
    (notCounted.length ? `. Not evidence: ${notCounted.join('; ')}` : '')
  );
}
