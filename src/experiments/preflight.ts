import * as fs from 'node:fs';
import * as path from 'node:path';
import { findRoot } from '../lib/config';
import type { LoadedRule, PrometheusClient } from '../lib/prometheus';
import { validateModes } from '../runtime/services';
import { alertRules } from './alert-rules';
import { InvalidExperimentError, type LoadedExperiment } from './loader';
import { ALERT_KEYS, type Experiment } from './schema';
import { renderQuery, unknownPlaceholders } from './verdict';
import type { AnyWorkloadKind } from './workloads';

/** What the preflight asks of Prometheus: does it parse this query, which metric names and rules does it hold. */
export type PreflightPrometheus = Pick<PrometheusClient, 'query' | 'metricNames' | 'rules'>;

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/** The metric names a PromQL expression reads: what is left once strings, matchers, ranges, label lists and functions are gone. */
export function metricNamesIn(query: string): string[] {
  const bare = query
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()/g))
    if (!PROMQL_KEYWORDS.has(m[1].toLowerCase())) names.add(m[1]);
  return [...names];
}

/**
 * Metric names METRICS.md documents: the lab's own (they exist in Prometheus only once a service served them) and
 * the Redis Cluster exporter's (only while the cluster runs, which the engine starts after this check).
 */
export function documentedMetrics(root: string): Set<string> {
  const file = path.join(root, 'METRICS.md');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return new Set([...text.matchAll(/`((?:lab|redis)_[a-z0-9_]+)`/g)].map((m) => m[1]));
}

/**
 * What needs the running stack to check: PromQL that Prometheus rejects, metric names neither Prometheus nor
 * METRICS.md knows (a typo would otherwise be "no data" after a whole run), placeholders the workload kind does
 * not export, alert names Prometheus has not loaded (the loader checked the files on disk), service modes the
 * services would refuse. Each makes the experiment invalid before any reset or fault.
 */
export async function preflight(
  loaded: LoadedExperiment,
  prom: PreflightPrometheus,
  kind: AnyWorkloadKind,
  documented: Set<string>,
): Promise<void> {
  const problems: string[] = [];
  const e = loaded.experiment;
  const known = new Set([...documented, ...(await prom.metricNames())]);
  const queries = [
    ...e['steady-state-hypothesis'].probes.flatMap((p) =>
      p.type === 'promql' ? [{ what: `probe "${p.name}"`, query: p.query }] : [],
    ),
    ...(e.timeSeries ?? []).map((t) => ({ what: `timeSeries "${t.title}"`, query: t.query })),
  ];
  for (const { what, query } of queries) {
    const unknown = unknownPlaceholders(query, kind.labels);
    if (unknown.length)
      problems.push(
        `${what}: ${unknown.map((n) => `$${n}`).join(', ')} not defined (the engine has $RUN, $WINDOW; workload ${kind.kind} exports ${
          Object.keys(kind.labels ?? {})
            .map((n) => `$${n}`)
            .join(', ') || 'none'
        })`,
      );
    const missing = metricNamesIn(query).filter((name) => !known.has(name));
    if (missing.length)
      problems.push(`${what}: no metric named ${missing.join(', ')} in Prometheus or METRICS.md`);
    await prom
      .query(renderQuery(query, 'preflight', 60, kind.labels))
      .catch((err: Error) => problems.push(`${what}: ${err.message}`));
  }
  problems.push(...(await unloadedAlerts(e.alerts, prom, findRoot())));
  for (const [service, setup] of Object.entries(e.services)) {
    try {
      validateModes(service, setup.modes);
    } catch (err) {
      problems.push(`services.${service}.modes: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new InvalidExperimentError(loaded.file, problems);
}

/** How a rule file changed on disk reaches Prometheus, which reads its rules only when it starts or reloads. */
export const RELOAD_RULES_FIX =
  'reload them with `kill -HUP <pid>` (the pid is in .lab/run/prometheus.json), or restart the stack (`chaos down && chaos up`)';

/**
 * Each alert name of the side's `alerts:` against `/api/v1/rules` — the rules Prometheus evaluates, not the files:
 * a rule renamed or added on disk but not reloaded would otherwise pass "stays silent" for a name nothing evaluates.
 * `root`: where prometheus/rules/ is, to tell "not reloaded" from "no such rule".
 */
export async function unloadedAlerts(
  alerts: Experiment['alerts'],
  prom: Pick<PrometheusClient, 'rules'>,
  root: string,
): Promise<string[]> {
  const declared = ALERT_KEYS.flatMap((key) =>
    (['firing', 'silent', 'tolerated'] as const).flatMap((list) =>
      (alerts?.[key]?.[list] ?? []).map((name) => ({ where: `alerts.${key}.${list}`, name })),
    ),
  );
  if (!declared.length) return [];
  let loaded: LoadedRule[];
  try {
    loaded = await prom.rules();
  } catch (err) {
    return [
      `alerts: cannot list the rules Prometheus loaded (/api/v1/rules): ${(err as Error).message}`,
    ];
  }
  const names = new Set(loaded.filter((r) => r.type === 'alerting').map((r) => r.name));
  const onDisk = safeAlertRules(root);
  return declared
    .filter(({ name }) => !names.has(name))
    .map(({ where, name }) => {
      const file = onDisk.get(name)?.file;
      return file
        ? `${where}: "${name}" is in prometheus/rules/${file} but Prometheus has not loaded it: ${RELOAD_RULES_FIX}`
        : `${where}: "${name}": Prometheus has no alert rule of that name; the names it loaded are ${[...names].sort().join(', ') || 'none'}`;
    });
}

/** The rules on disk, or none when they cannot be read (the loader has said so already). */
function safeAlertRules(root: string): ReturnType<typeof alertRules> {
  try {
    return alertRules(root);
  } catch {
    return new Map();
  }
}
