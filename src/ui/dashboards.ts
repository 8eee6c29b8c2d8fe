import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { PrometheusClient } from '../lib/prometheus';
import { LabError } from '../lib/errors';

/**
 * The Grafana dashboards (grafana/dashboards/*.json) as the UI draws them without Grafana: each panel's PromQL,
 * legend and unit, each dashboard's time range and refresh, read from the same files Grafana provisions.
 */
export interface UiPanel {
  id: number;
  title: string;
  type: string;
  unit?: string;
  /** the panel's row (Grafana's `row` panels group the ones below them) */
  row?: string;
  targets: { refId: string; expr: string; legend?: string; instant: boolean }[];
}
export interface UiDashboard {
  uid: string;
  title: string;
  file: string;
  /** Grafana's `now-30m` → 1800 */
  rangeSec: number;
  /** Grafana's `5s` → 5 */
  refreshSec: number;
  panels: UiPanel[];
}

const GrafanaTarget = z
  .object({
    refId: z.string(),
    expr: z.string().optional(),
    legendFormat: z.string().optional(),
    instant: z.boolean().optional(),
  })
  .passthrough();
interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  targets?: z.infer<typeof GrafanaTarget>[];
  fieldConfig?: { defaults?: { unit?: string } };
  panels?: GrafanaPanel[];
}
const GrafanaPanelSchema: z.ZodType<GrafanaPanel> = z.lazy(() =>
  z
    .object({
      id: z.number(),
      type: z.string(),
      title: z.string(),
      targets: z.array(GrafanaTarget).optional(),
      fieldConfig: z
        .object({ defaults: z.object({ unit: z.string().optional() }).passthrough().optional() })
        .passthrough()
        .optional(),
      panels: z.array(GrafanaPanelSchema).optional(),
    })
    .passthrough(),
);
const GrafanaDashboard = z
  .object({
    uid: z.string(),
    title: z.string(),
    time: z.object({ from: z.string(), to: z.string() }).passthrough(),
    refresh: z.union([z.string(), z.literal(false)]).optional(),
    panels: z.array(GrafanaPanelSchema),
  })
  .passthrough();

const UNIT_SEC: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `now-30m` → 1800, `5s` → 5: Grafana's relative times and intervals. */
export function grafanaDurationSec(text: string): number {
  const m = /^(?:now-)?(\d+)([smhd])$/.exec(text.trim());
  if (!m) throw new LabError(`unsupported Grafana time "${text}": expected now-<n><s|m|h|d>`);
  return Number(m[1]) * UNIT_SEC[m[2]];
}

/** Every dashboard file, its rows flattened into the panels' `row`; a file that does not parse is an error naming it. */
export function loadDashboards(root: string): UiDashboard[] {
  const dir = path.join(root, 'grafana', 'dashboards');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const parsed = GrafanaDashboard.safeParse(
        JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')),
      );
      if (!parsed.success)
        throw new LabError(
          `grafana/dashboards/${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      const d = parsed.data;
      const panels: UiPanel[] = [];
      let row: string | undefined;
      const visit = (p: GrafanaPanel) => {
        if (p.type === 'row') {
          row = p.title;
          p.panels?.forEach(visit); // a collapsed row keeps its panels inside it
          return;
        }
        const targets = (p.targets ?? [])
          .filter((t) => t.expr)
          .map((t) => ({
            refId: t.refId,
            expr: t.expr as string,
            ...(t.legendFormat ? { legend: t.legendFormat } : {}),
            instant: !!t.instant,
          }));
        if (!targets.length) return;
        const unit = p.fieldConfig?.defaults?.unit;
        panels.push({
          id: p.id,
          title: p.title,
          type: p.type,
          ...(unit ? { unit } : {}),
          ...(row ? { row } : {}),
          targets,
        });
      };
      d.panels.forEach(visit);
      return {
        uid: d.uid,
        title: d.title,
        file,
        rangeSec: grafanaDurationSec(d.time.from),
        refreshSec: d.refresh ? grafanaDurationSec(d.refresh) : 0,
        panels,
      };
    });
}

/**
 * Grafana's variables as the UI fills them: $run and $topic match every run (Grafana's "All"), $__range is the
 * time range, $__rate_interval four scrape intervals but at least the step (Grafana's own rule).
 */
export function interpolate(
  expr: string,
  v: { rangeSec: number; stepSec: number; scrapeSec: number },
): string {
  const rate = Math.max(4 * v.scrapeSec, v.stepSec);
  return expr
    .replace(/\$\{?run\}?(?![\w:])/g, '.*')
    .replace(/\$\{?topic\}?(?![\w:])/g, '.*')
    .replace(/\$\{?__range\}?(?!_)/g, `${Math.ceil(v.rangeSec)}s`)
    .replace(/\$\{?__rate_interval\}?/g, `${rate}s`)
    .replace(/\$\{?__interval\}?/g, `${v.stepSec}s`);
}

/** GET /api/panel-data: one panel's targets over its dashboard's range, as uPlot-ready series. */
export const PanelDataRequest = z
  .object({
    dashboard: z.string().min(1),
    panel: z.coerce.number().int(),
    /** seconds back from now (default: the dashboard's range) */
    rangeSec: z.coerce
      .number()
      .int()
      .min(10)
      .max(7 * 86_400)
      .optional(),
  })
  .strict();

export interface PanelData {
  title: string;
  unit?: string;
  /** seconds since the epoch, shared by every series */
  times: number[];
  series: { name: string; values: (number | null)[] }[];
  queries: string[];
}

/** Grafana's `{{label}}` legends; without one, the series' labels. */
const legendOf = (legend: string | undefined, metric: Record<string, string>) =>
  legend && legend !== '__auto'
    ? legend.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, k: string) => metric[k] ?? '')
    : Object.entries(metric)
        .filter(([k]) => k !== '__name__')
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') ||
      metric.__name__ ||
      'value';

/** The panel's queries through Prometheus's query_range, aligned on one time axis (a gap is null, as uPlot wants). */
export async function panelData(
  prom: PrometheusClient,
  dashboards: UiDashboard[],
  q: z.infer<typeof PanelDataRequest>,
  scrapeSec = 1,
): Promise<PanelData> {
  const d = dashboards.find((x) => x.uid === q.dashboard);
  if (!d)
    throw new LabError(
      `unknown dashboard "${q.dashboard}"; valid: ${dashboards.map((x) => x.uid).join(', ')}`,
    );
  const p = d.panels.find((x) => x.id === q.panel);
  if (!p)
    throw new LabError(
      `dashboard ${d.uid} has no panel ${q.panel}; its panels: ${d.panels.map((x) => x.id).join(', ')}`,
    );
  const rangeSec = q.rangeSec ?? d.rangeSec;
  // About 300 points across the range: enough for a line, cheap for Prometheus.
  const stepSec = Math.max(scrapeSec, Math.ceil(rangeSec / 300));
  const end = Math.floor(Date.now() / 1000 / stepSec) * stepSec;
  const start = end - rangeSec;
  const times: number[] = [];
  for (let t = start; t <= end; t += stepSec) times.push(t);
  const series: PanelData['series'] = [];
  const queries: string[] = [];
  for (const t of p.targets) {
    const expr = interpolate(t.expr, { rangeSec, stepSec, scrapeSec });
    queries.push(expr);
    for (const s of await prom.range(expr, start, end, stepSec)) {
      const byTime = new Map(s.values.map(([at, v]) => [Math.round(at), v]));
      series.push({
        name: legendOf(t.legend, s.metric),
        values: times.map((at) => {
          const v = byTime.get(at);
          return v === undefined || !Number.isFinite(v) ? null : v;
        }),
      });
    }
  }
  return { title: p.title, ...(p.unit ? { unit: p.unit } : {}), times, series, queries };
}
