/**
 * A small typed builder for the Grafana dashboards in grafana/dashboards/*.json: dashboard(), row(), the panel kinds
 * (timeseries, stat, table) and target(). The JSON is data: edit the panels in src/dashboards/<dashboard>.ts, run
 * `npm run dashboards`, commit both. test/grafana/dashboards.test.ts checks the committed JSON is what this writes.
 */

export const DS = { type: 'prometheus', uid: 'lab-prometheus' } as const;
/** Grafana's rate window: at least four scrape intervals. */
export const RATE = '$__rate_interval';

export interface Target {
  expr: string;
  /** Grafana legend template; `__auto` when absent. */
  legend?: string;
}

export type PanelType = 'timeseries' | 'stat' | 'table';

export interface PanelSpec {
  type: PanelType;
  title: string;
  targets: Target[];
  description?: string;
  unit?: string;
  /** Grid width (of 24) and height; 12 × 8 when absent. */
  w?: number;
  h?: number;
  /** Instant queries formatted as a table (table panels). */
  instant?: boolean;
  mappings?: unknown[];
  thresholds?: Thresholds;
  transformations?: unknown[];
}

export interface Thresholds {
  mode: 'absolute' | 'percentage';
  steps: { color: string; value: number | null }[];
}

export interface Row {
  title: string;
  panels: PanelSpec[];
}

export interface Variable {
  name: string;
  label: string;
  type: 'query';
  datasource: typeof DS;
  definition: string;
  query: { query: string; refId: string };
  regex?: string;
  refresh: number;
  sort: number;
  includeAll: boolean;
  allValue: string;
  multi: boolean;
  current: { selected: boolean; text: string[]; value: string[] };
  options: unknown[];
  hide: number;
}

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

export interface RowPanel {
  id: number;
  type: 'row';
  title: string;
  collapsed: boolean;
  gridPos: GridPos;
  panels: never[];
}

export interface QueryTarget {
  refId: string;
  datasource: typeof DS;
  expr: string;
  legendFormat: string;
  range: boolean;
  instant: boolean;
  format?: 'table';
}

export interface Panel {
  id: number;
  type: PanelType;
  title: string;
  description: string;
  datasource: typeof DS;
  gridPos: GridPos;
  targets: QueryTarget[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
  transformations?: unknown[];
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: string;
  editable: boolean;
  graphTooltip: number;
  schemaVersion: number;
  version: number;
  refresh: string;
  time: { from: string; to: string };
  timepicker: { refresh_intervals: string[] };
  annotations: { list: Record<string, unknown>[] };
  templating: { list: Variable[] };
  links: Record<string, unknown>[];
  panels: (RowPanel | Panel)[];
}

type Options = Omit<PanelSpec, 'type' | 'title' | 'targets'>;

/** A PromQL query and its legend. */
export function target(expr: string, legend?: string): Target {
  return legend === undefined ? { expr } : { expr, legend };
}

export function timeseries(title: string, targets: Target[], options: Options = {}): PanelSpec {
  return { type: 'timeseries', title, targets, ...options };
}

export function stat(title: string, targets: Target[], options: Options = {}): PanelSpec {
  return { type: 'stat', title, targets, ...options };
}

/** A table of instant queries. */
export function table(title: string, targets: Target[], options: Options = {}): PanelSpec {
  return { type: 'table', title, targets, instant: true, ...options };
}

export function row(title: string, ...panels: PanelSpec[]): Row {
  return { title, panels };
}

/** A multi-value query variable whose "All" matches `allValue`. */
export function queryVariable(
  name: string,
  query: string,
  extra: { regex?: string; sort: number; allValue: string },
): Variable {
  return {
    name,
    label: name,
    type: 'query',
    datasource: DS,
    definition: query,
    query: { query, refId: name },
    ...(extra.regex === undefined ? {} : { regex: extra.regex }),
    refresh: 2,
    sort: extra.sort,
    includeAll: true,
    allValue: extra.allValue,
    multi: true,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    hide: 0,
  };
}

/** A run id variable: every lab series carries `run`; "All" matches every run in the time range. */
export const runVar = queryVariable('run', 'label_values(lab_process_start_time_seconds, run)', {
  sort: 2,
  allValue: '.*',
});
export const topicVar = queryVariable('topic', 'label_values(kafka_log_log_logendoffset, topic)', {
  regex: '/^(?!__).*/',
  sort: 1,
  allValue: 'lab[.].*',
});

export const ZERO_GOOD: Thresholds = {
  mode: 'absolute',
  steps: [
    { color: 'green', value: null },
    { color: 'red', value: 1 },
  ],
};

/** Lays the rows out top to bottom, each row's panels left to right, wrapping at 24 columns. */
export function layout(rows: Row[]): (RowPanel | Panel)[] {
  let id = 0;
  let y = 0;
  const panels: (RowPanel | Panel)[] = [];
  for (const r of rows) {
    panels.push({
      id: ++id,
      type: 'row',
      title: r.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y: y++ },
      panels: [],
    });
    let x = 0;
    for (const p of r.panels) {
      const w = p.w ?? 12;
      const h = p.h ?? 8;
      if (x + w > 24) {
        x = 0;
        y += h;
      }
      panels.push(panel(++id, p, { h, w, x, y }));
      x += w;
    }
    y += Math.max(...r.panels.map((p) => p.h ?? 8));
  }
  return panels;
}

const ANNOTATIONS = [
  {
    builtIn: 1,
    datasource: { type: 'grafana', uid: '-- Grafana --' },
    enable: true,
    hide: true,
    iconColor: 'rgba(0, 211, 255, 1)',
    name: 'Annotations & Alerts',
    type: 'dashboard',
  },
  {
    name: 'Lab alerts firing',
    datasource: DS,
    enable: true,
    iconColor: 'red',
    expr: 'ALERTS{alertstate="firing"}',
    step: '5s',
    titleFormat: '{{alertname}}',
    tagKeys: 'severity',
    useValueForTime: false,
  },
];

export function dashboard(
  uid: string,
  title: string,
  description: string,
  vars: Variable[],
  rows: Row[],
): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['reliability-lab'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '5s',
    time: { from: 'now-30m', to: 'now' },
    timepicker: { refresh_intervals: ['1s', '5s', '10s', '30s', '1m'] },
    annotations: { list: ANNOTATIONS },
    templating: { list: vars },
    links: [
      {
        title: 'Reliability Lab dashboards',
        type: 'dashboards',
        tags: ['reliability-lab'],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
      },
    ],
    panels: layout(rows),
  };
}

function queryTargets(p: PanelSpec): QueryTarget[] {
  return p.targets.map((t, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DS,
    expr: t.expr,
    legendFormat: t.legend ?? '__auto',
    range: !p.instant,
    instant: !!p.instant,
    ...(p.instant ? { format: 'table' as const } : {}),
  }));
}

const TIMESERIES_CUSTOM = {
  drawStyle: 'line',
  lineWidth: 1,
  fillOpacity: 10,
  showPoints: 'never',
  spanNulls: false,
};

function panelOptions(type: PanelType): Record<string, unknown> {
  switch (type) {
    case 'timeseries':
      return {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
    case 'stat':
      return {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'background',
        graphMode: 'none',
        textMode: 'value_and_name',
      };
    case 'table':
      return { showHeader: true };
  }
}

export function panel(id: number, p: PanelSpec, gridPos: GridPos): Panel {
  return {
    id,
    type: p.type,
    title: p.title,
    description: p.description ?? '',
    datasource: DS,
    gridPos,
    targets: queryTargets(p),
    fieldConfig: {
      defaults: {
        unit: p.unit ?? 'short',
        ...(p.mappings ? { mappings: p.mappings } : {}),
        ...(p.thresholds ? { thresholds: p.thresholds } : {}),
        ...(p.type === 'timeseries' ? { custom: { ...TIMESERIES_CUSTOM } } : {}),
      },
      overrides: [],
    },
    options: panelOptions(p.type),
    ...(p.transformations ? { transformations: p.transformations } : {}),
  };
}
