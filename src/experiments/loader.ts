import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { ZodIssue } from 'zod';
import { findRoot } from '../lib/config';
import { LabError } from '../lib/errors';
import { alertProblems } from './alert-rules';
import { evidenceProblem, OR_VECTOR } from './evidence';
import { FACT_NAMES } from './facts';
import { allowedServiceEnv, checkServiceEnv, isolationProblem } from './service-env';
import { SERVICE_NAMES } from '../runtime/services';
import { ExperimentSchema, type AlertKey, type Experiment, type SideName } from './schema';
import {
  WORKLOAD_KINDS,
  workloadKind,
  workloadParams,
  WorkloadSchema,
  type AnyWorkloadKind,
} from './workloads';

/** The file's schema, its `workload:` block checked against the registered kinds (one union by `kind`). */
const FileSchema = ExperimentSchema.extend({ workload: WorkloadSchema });

export class InvalidExperimentError extends LabError {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(
      `${file} is not a valid experiment (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  - ${problems.join('\n  - ')}`,
      { exitCode: 2 },
    );
  }
}

export class UnknownExperimentError extends LabError {
  constructor(id: string, known: string[]) {
    super(
      `unknown experiment "${id}"; known: ${known.join(', ') || '(none)'} — see \`chaos exp list\``,
      { exitCode: 2 },
    );
  }
}

export interface LoadedExperiment {
  experiment: Experiment;
  dir: string;
  file: string;
  /** values of `configuration`, after env overrides */
  config: Record<string, number | string | boolean>;
  /** the side loaded (anti-pattern / pattern), when the file declares sides */
  side?: SideName;
}

export const experimentsDir = (root: string) => path.join(root, 'experiments');

/** Every experiment directory: experiments/E-00x-<slug>/experiment.yaml, sorted by id. */
export function listExperimentFiles(root: string): { id: string; dir: string; file: string }[] {
  const base = experimentsDir(root);
  if (!fs.existsSync(base)) return [];
  return fs
    .readdirSync(base)
    .filter((d) => /^E-\d{3}-/.test(d) && fs.existsSync(path.join(base, d, 'experiment.yaml')))
    .sort()
    .map((d) => ({
      id: d.slice(0, 5),
      dir: path.join(base, d),
      file: path.join(base, d, 'experiment.yaml'),
    }));
}

/** An id (E-002) from experiments/, or a path to an experiment.yaml of your own. */
export function findExperiment(
  root: string,
  id: string,
): { id: string; dir: string; file: string } {
  if (/\.ya?ml$/.test(id)) {
    const file = path.resolve(id);
    if (!fs.existsSync(file))
      throw new UnknownExperimentError(
        id,
        listExperimentFiles(root).map((e) => e.id),
      );
    return { id: path.basename(path.dirname(file)), dir: path.dirname(file), file };
  }
  const all = listExperimentFiles(root);
  const hit = all.find((e) => e.id === id.toUpperCase());
  if (!hit)
    throw new UnknownExperimentError(
      id,
      all.map((e) => e.id),
    );
  return hit;
}

/**
 * Parse and validate a whole file before anything runs; every problem is reported, each with its line. `root`
 * holds prometheus/rules/*.yml, against which the `alerts:` block is checked.
 */
export function loadExperimentFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  wanted?: SideName,
  root: string = findRoot(),
): LoadedExperiment {
  const rel = path.relative(process.cwd(), file) || file;
  const text = fs.readFileSync(file, 'utf8');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    throw new InvalidExperimentError(
      rel,
      doc.errors.map((e) => `line ${lc.linePos(e.pos[0]).line}: YAML: ${e.message.split('\n')[0]}`),
    );
  }
  const raw = doc.toJS() as Record<string, unknown>;
  if (!raw || typeof raw !== 'object')
    throw new InvalidExperimentError(rel, ['the file is empty or not a mapping']);
  const problems: string[] = [];
  const at = (p: (string | number)[]) => lineOf(doc, lc, p);
  const config = resolveConfiguration(raw.configuration, env, problems, at);
  const expectedOf = expectedBySide(raw); // before applySide replaces `expected` with the loaded side's
  const side = applySide(raw, config, env, wanted, problems);
  const substituted = substitute(raw, config, problems) as Record<string, unknown>;
  const parsed = FileSchema.safeParse(substituted);
  if (!parsed.success)
    for (const issue of parsed.error.issues) problems.push(describe(issue, doc, lc));
  if (parsed.success) {
    const hypothesis = parsed.data['steady-state-hypothesis'];
    for (const c of parsed.data.pair?.compare ?? []) {
      const probe = c.probe && hypothesis.probes.find((p) => p.name === c.probe);
      if (c.probe && (!probe || probe.side))
        problems.push(
          `pair.compare "${c.name}": probe "${c.probe}" is not a probe of both sides (a shared one, without \`side:\`)`,
        );
      const figures = workloadKind(parsed.data.workload.kind)?.figures ?? [];
      if (c.figure && !figures.includes(c.figure))
        problems.push(
          `pair.compare "${c.name}": ${c.figure} is not an audit figure (${figures.join(', ')})`,
        );
    }
    if (!side && hypothesis.probes.some((p) => p.side))
      problems.push('a probe names a `side:`, but the file declares none (`side:` / `pair:`)');
    problems.push(...alertProblems(parsed.data.alerts, expectedOf, root, at));
    const gap = narrowToSide(parsed.data, side, (p) => lineNumber(doc, lc, p));
    if (gap) problems.push(gap);
    problems.push(...semanticProblems(parsed.data, path.basename(path.dirname(file))));
  }
  if (problems.length) throw new InvalidExperimentError(rel, problems);
  if (!parsed.success) throw new InvalidExperimentError(rel, ['the file did not validate']);
  return { experiment: parsed.data, dir: path.dirname(file), file, config, side };
}

/**
 * Narrows the experiment to the side loaded — the shared probes and its own, its alert expectations only — and
 * returns the evidence gate's problem for that side, if any. Probe lines are read before the filter renumbers them.
 */
function narrowToSide(
  e: Experiment,
  side: SideName | undefined,
  line: (path: (string | number)[]) => number | undefined,
): string | undefined {
  const probesAt = ['steady-state-hypothesis', 'probes'];
  const own = e['steady-state-hypothesis'].probes
    .map((probe, i) => ({ probe, line: line([...probesAt, i]) }))
    .filter(({ probe }) => !probe.side || probe.side === side);
  e['steady-state-hypothesis'].probes = own.map(({ probe }) => probe);
  const key: AlertKey = side ?? 'run';
  const alerts = e.alerts?.[key];
  e.alerts = alerts ? { [key]: alerts } : undefined;
  const at = line(probesAt);
  return evidenceProblem(
    { side, expected: e.expected, steps: e.method, probes: own },
    at === undefined ? '' : `line ${at}: `,
  );
}

/**
 * `configuration` with the environment's overrides. Only `LAB_*` variables are read: a file must not copy the
 * shell's other variables (tokens, paths) into a run, its report or its services.
 */
function resolveConfiguration(
  cfg: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
  at: (path: (string | number)[]) => string,
): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  if (!cfg || typeof cfg !== 'object') return out;
  for (const [k, v] of Object.entries(cfg as Record<string, unknown>)) {
    if (v && typeof v === 'object' && 'value' in v) {
      const { value, env: name } = v as { value: number | string | boolean; env: string };
      const readable = typeof name === 'string' && name.startsWith('LAB_');
      if (!readable)
        problems.push(
          `${at(['configuration', k, 'env'])}configuration.${k}.env: ${String(name)} is not a LAB_* variable; an experiment reads only LAB_* overrides (name it LAB_${String(name).replace(/^LAB_/, '')})`,
        );
      const override = readable ? env[name] : undefined;
      if (override === undefined) out[k] = value;
      else if (typeof value === 'number') {
        if (!/^-?\d+(\.\d+)?$/.test(override))
          problems.push(`configuration.${k}: ${name}=${override} is not a number`);
        out[k] = Number(override);
      } else if (typeof value === 'boolean') out[k] = override === 'true';
      else out[k] = override;
    } else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

/**
 * `side` + `pair`: the file's own values show `side`; loading `pair.side` replaces the values `pair.configuration`
 * names — except those the environment set explicitly — and the title and expected outcome. Returns the side loaded.
 */
function applySide(
  raw: Record<string, unknown>,
  config: Record<string, number | string | boolean>,
  env: NodeJS.ProcessEnv,
  wanted: SideName | undefined,
  problems: string[],
): SideName | undefined {
  const own = typeof raw.side === 'string' ? (raw.side as SideName) : undefined;
  const pair = raw.pair as
    | {
        side?: unknown;
        title?: unknown;
        expected?: unknown;
        configuration?: Record<string, unknown>;
      }
    | undefined;
  if (pair && typeof pair === 'object' && !own)
    problems.push("pair: needs `side:` at the top level (which side the file's own values show)");
  if (pair && typeof pair === 'object' && pair.side === own)
    problems.push(`pair.side: "${String(own)}" is the file's own side; the pair is the other one`);
  if (wanted === undefined || wanted === own) return own;
  if (!pair || typeof pair !== 'object' || pair.side !== wanted) {
    problems.push(
      `--side ${wanted}: this experiment shows ${[own, pair?.side].filter(Boolean).join(' and ') || 'one side only'}`,
    );
    return wanted;
  }
  for (const [k, value] of Object.entries(pair.configuration ?? {})) {
    if (!(k in config)) problems.push(`pair.configuration.${k} is not defined in configuration`);
    const entry = (raw.configuration as Record<string, unknown>)[k];
    const envName =
      entry && typeof entry === 'object' && 'env' in entry
        ? String((entry as { env: unknown }).env)
        : undefined;
    if (envName && env[envName] !== undefined) continue; // an explicit override wins over the side
    config[k] = value as number | string | boolean;
  }
  if (typeof pair.expected === 'string') raw.expected = pair.expected;
  if (typeof pair.title === 'string') raw.title = pair.title;
  return wanted;
}

/** Each side's expected outcome as the file states it (`run` in a file without sides). */
function expectedBySide(
  raw: Record<string, unknown>,
): Partial<Record<AlertKey, Experiment['expected']>> {
  const pair = raw.pair as { side?: unknown; expected?: unknown } | undefined;
  const own = typeof raw.side === 'string' ? raw.side : 'run';
  const out: Record<string, Experiment['expected']> = {
    [own]: raw.expected as Experiment['expected'],
  };
  if (pair && typeof pair === 'object' && typeof pair.side === 'string')
    out[pair.side] = pair.expected as Experiment['expected'];
  return out;
}

/** The sides a file shows, its own first: what `chaos exp run` runs when no `--side` is given. */
export function sidesOf(file: string): (SideName | undefined)[] {
  const raw = parseDocument(fs.readFileSync(file, 'utf8')).toJS() as Record<string, unknown> | null;
  const pair = raw?.pair as { side?: SideName } | undefined;
  return [raw?.side as SideName | undefined, ...(pair?.side ? [pair.side] : [])];
}

/** `${name}` alone keeps the configuration value's type; inside a longer string it is interpolated. */
function substitute(
  node: unknown,
  config: Record<string, number | string | boolean>,
  problems: string[],
): unknown {
  if (typeof node === 'string') {
    const whole = /^\$\{(\w+)\}$/.exec(node);
    if (whole) {
      if (!(whole[1] in config)) problems.push(`\${${whole[1]}} is not defined in configuration`);
      return config[whole[1]];
    }
    return node.replace(/\$\{(\w+)\}/g, (m, k) =>
      k in config ? String(config[k]) : (problems.push(`${m} is not defined in configuration`), m),
    );
  }
  if (Array.isArray(node)) return node.map((n) => substitute(n, config, problems));
  if (node && typeof node === 'object')
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        k === 'configuration' ? v : substitute(v, config, problems),
      ]),
    );
  return node;
}

/** The line of the node at `at` (or of its nearest ancestor in the file), if any. */
function lineNumber(doc: Document, lc: LineCounter, at: (string | number)[]): number | undefined {
  for (let n = at.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(at.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range && (isMap(node) || isSeq(node) || node)) return lc.linePos(range[0]).line;
  }
  return undefined;
}

/** `line N: ` of the node at `at` (or of its nearest ancestor in the file), or nothing. */
function lineOf(doc: Document, lc: LineCounter, at: (string | number)[]): string {
  const line = lineNumber(doc, lc, at);
  return line === undefined ? '' : `line ${line}: `;
}

function describe(issue: ZodIssue, doc: Document, lc: LineCounter): string {
  const at = issue.path.join('.') || '(top level)';
  let msg = issue.message;
  if (issue.code === 'invalid_union_discriminator')
    msg = `unknown ${issue.path[issue.path.length - 1] === 'kind' ? 'workload kind' : 'type'}; expected one of ${issue.options.join(', ')}`;
  if (issue.code === 'invalid_enum_value')
    msg = `"${String(issue.received)}" is not valid; expected one of ${issue.options.join(', ')}`;
  if (issue.code === 'unrecognized_keys') msg = `unknown field(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') msg = 'is required';
  return `${lineOf(doc, lc, issue.path)}${at}: ${msg}`;
}

const ANY_SERVICE_SETTING = new Set(
  SERVICE_NAMES.flatMap((service) => allowedServiceEnv(service) ?? []),
);

/** Each `method:` step's env, service and timing against the lab's services and the workload kind. */
function stepProblems(e: Experiment, kind: AnyWorkloadKind): string[] {
  const out: string[] = [];
  for (const [i, step] of e.method.entries()) {
    const f = step.fault as { type: string; service?: string; env?: Record<string, string> };
    // A deploy step may carry the settings of the services it rolls out together (E-006): any lab service's
    // setting passes, nothing that changes the process (NODE_OPTIONS, LD_PRELOAD, PATH…).
    for (const name of Object.keys(f.env ?? {})) {
      const isolation = isolationProblem(name, `method.${i}.fault.env`);
      if (isolation) out.push(isolation);
      else if (!ANY_SERVICE_SETTING.has(name))
        out.push(
          `method.${i}.fault.env.${name} is not a setting of any lab service (${step.name})`,
        );
    }
    if (f.service && !(f.service in e.services))
      out.push(
        `method.${i} (${step.name}): service ${f.service} is not among this experiment's services (${Object.keys(e.services).join(', ')})`,
      );
    if (
      typeof step.at === 'object' &&
      'moment' in step.at &&
      !(kind.moments ?? []).includes(step.at.moment)
    )
      out.push(
        `method.${i} (${step.name}): at.moment "${step.at.moment}" is not a moment of workload ${kind.kind} (${(kind.moments ?? []).join(', ') || 'it has none'})`,
      );
    if (typeof step.at === 'object' && !('moment' in step.at) && kind.kind !== 'commands')
      out.push(
        `method.${i} (${step.name}): afterCommands / afterMs belong to the commands workload; ${kind.kind} fires steps at its moments (${(kind.moments ?? []).join(', ') || 'none'})`,
      );
  }
  return out;
}

/** Rules the schema alone cannot express. */
/** A `counterfactual:` block's workload parameters must be the kind's own, and the kind stays the file's. */
function counterfactualProblems(e: Experiment, kind: AnyWorkloadKind): string[] {
  const overrides = e.counterfactual?.workload;
  if (!overrides) return [];
  if ('kind' in overrides)
    return ['counterfactual.workload: the kind stays the file\u2019s; remove `kind`'];
  const parsed = kind.params.safeParse({ ...workloadParams(e.workload), ...overrides });
  return parsed.success
    ? []
    : parsed.error.issues.map(
        (i) => `counterfactual.workload.${i.path.join('.') || '(parameters)'}: ${i.message}`,
      );
}

function semanticProblems(e: Experiment, dirName: string): string[] {
  const out: string[] = [];
  if (/^E-\d{3}-/.test(dirName) && !dirName.startsWith(e.id))
    out.push(`id ${e.id} does not match its directory ${dirName}`);
  const kind = workloadKind(e.workload.kind);
  if (!kind)
    return [
      ...out,
      `workload.kind: "${e.workload.kind}" is not registered; expected one of ${WORKLOAD_KINDS.map((k) => k.kind).join(', ')}`,
    ];
  const figures = kind.figures;
  for (const s of kind.requiresServices ?? [])
    if (!(s in e.services)) out.push(`services: workload ${kind.kind} needs ${s}`);
  for (const [service, setup] of Object.entries(e.services))
    out.push(...checkServiceEnv(service, setup.env));
  out.push(...stepProblems(e, kind));
  out.push(...counterfactualProblems(e, kind));
  const probes = e['steady-state-hypothesis'].probes;
  for (const p of probes) {
    for (const ref of Object.values(p.tolerance).flat()) {
      if (typeof ref !== 'string') continue;
      const [scope, key] = ref.split('.');
      const known: readonly string[] = scope === 'audit' ? figures : FACT_NAMES;
      if (!known.includes(key))
        out.push(
          `probe "${p.name}": ${ref} is not a known ${scope === 'audit' ? 'audit figure' : 'run fact'} (${known.join(', ')})`,
        );
    }
    if (p.type === 'audit' && !figures.includes(p.figure))
      out.push(
        `probe "${p.name}": figure ${p.figure} is not a known audit figure of workload ${kind.kind} (${figures.join(', ')})`,
      );
    if (p.type === 'promql' && p.crossCheck && !figures.includes(p.crossCheck.audit))
      out.push(
        `probe "${p.name}": crossCheck.audit ${p.crossCheck.audit} is not a known audit figure (${figures.join(', ')})`,
      );
    if (p.type === 'promql' && p.baseline && !/^[a-zA-Z_:][\w:]*(\{[^}]*\})?$/.test(p.query.trim()))
      out.push(
        `probe "${p.name}": baseline: run-start needs a bare counter selector like metric{label="…"}, not an expression`,
      );
    if (p.type === 'promql' && OR_VECTOR.test(p.query))
      out.push(
        `probe "${p.name}": "or vector(…)" turns "no data" into a number; declare \`absent: { value, reason }\` instead`,
      );
  }
  const names = probes.map((p) => p.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) out.push(`probe name "${dup}" is used twice`);
  return out;
}
