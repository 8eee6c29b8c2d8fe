import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { findRoot } from '../../src/lib/config';

/** What the dashboard tests share: the provisioned files, every panel's queries, and Grafana's variables filled in. */
export const root = findRoot(__dirname);
export const dashboardsDir = path.join(root, 'grafana/dashboards');
export const provisioningDir = path.join(root, 'grafana/provisioning');

export interface Target {
  refId: string;
  expr: string;
  datasource?: { uid?: string; type?: string };
  instant?: boolean;
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { uid?: string; type?: string };
  targets?: Target[];
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; datasource?: { uid?: string }; query?: unknown }[];
  };
  time: unknown;
  annotations?: { list: { datasource?: { uid?: string }; expr?: string }[] };
}

export const dashboardFiles = () =>
  fs
    .readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
export const loadDashboard = (file: string): Dashboard =>
  JSON.parse(fs.readFileSync(path.join(dashboardsDir, file), 'utf8'));

export function provisionedDatasourceUid(): string {
  const dir = path.join(provisioningDir, 'datasources');
  const sources = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => parse(fs.readFileSync(path.join(dir, f), 'utf8')).datasources ?? []);
  const prom = sources.filter((d: { type: string }) => d.type === 'prometheus');
  if (prom.length !== 1)
    throw new Error(`expected one provisioned prometheus datasource, found ${prom.length}`);
  return prom[0].uid;
}

export interface PanelQuery {
  file: string;
  panel: string;
  refId: string;
  expr: string;
  instant: boolean;
}

export function panelQueries(): PanelQuery[] {
  return dashboardFiles().flatMap((file) =>
    loadDashboard(file).panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        file,
        panel: p.title,
        refId: t.refId,
        expr: t.expr,
        instant: !!t.instant,
      })),
    ),
  );
}

/** Grafana's Prometheus datasource escapes a multi-value variable's regex specials with a double backslash (a PromQL
 *  string needs `\\.` for a regex `\.`) and joins the values as `(a|b)`. */
const promRegexEscape = (s: string) => s.replace(/[\\$^*{}[\]'+?.()|]/g, '\\\\$&');

/**
 * Grafana's interpolation of the variables our dashboards use: $run (multi-value run ids), $topic (the runs'
 * topics), $__range (the time range), $__rate_interval (Grafana: at least 4 scrape intervals).
 */
export function interpolate(
  expr: string,
  v: { runs: string[]; rangeSec: number; rateIntervalSec?: number },
): string {
  const runRe = `(${v.runs.map(promRegexEscape).join('|')})`;
  const topicRe = `(${v.runs.map((r) => promRegexEscape(`lab.exp.${r}`)).join('|')})`;
  return expr
    .replace(/\$\{?run\}?(?![\w:])/g, runRe)
    .replace(/\$\{?topic\}?(?![\w:])/g, topicRe)
    .replace(/\$\{?__range\}?(?!_)/g, `${Math.ceil(v.rangeSec)}s`)
    .replace(/\$\{?__rate_interval\}?/g, `${v.rateIntervalSec ?? 10}s`);
}

/**
 * Queries allowed to return nothing, each with its reason: only while their metric does not exist in Prometheus
 * at all (the gauges come from another change). Once the metric exists, the query must return data like any other.
 */
export const ABSENT_TOLERANT: { metric: string; why: string }[] = [
  {
    metric: 'lab_kafka_partition_hw',
    why: 'high-watermark gauge being added by the LSO/HW change (issue #6)',
  },
  {
    metric: 'lab_kafka_partition_lso',
    why: 'last-stable-offset gauge being added by the LSO/HW change (issue #6)',
  },
];
