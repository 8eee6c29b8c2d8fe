import { bestEffortOr } from '../lib/best-effort';
import type { PrometheusClient } from '../lib/prometheus';
import type { AuditResult } from './audit';
import type { Experiment } from './schema';
import { renderQuery } from './verdict';

const BARS = '▁▂▃▄▅▆▇█';

/** One line of unicode bars, scaled to the series' own maximum: the shape of a curve in a markdown report. */
export function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  return values
    .map((v) =>
      max === 0
        ? BARS[0]
        : BARS[Math.min(BARS.length - 1, Math.round((v / max) * (BARS.length - 1)))],
    )
    .join('');
}

/**
 * The file's `timeSeries` (e.g. the consumer lag) read back from Prometheus over the run's window, one point per
 * second: plots for the journal, and a report section per series (sparkline + a table of at most `maxRows` rows).
 */
export async function collectTimeSeries(
  e: Experiment,
  prom: PrometheusClient,
  run: { runId: string; startSec: number; endSec: number },
  maxRows = 30,
): Promise<Pick<AuditResult, 'plots' | 'sections'>> {
  const plots: NonNullable<AuditResult['plots']> = [];
  const sections: NonNullable<AuditResult['sections']> = [];
  for (const ts of e.timeSeries ?? []) {
    const query = renderQuery(ts.query, run.runId, 60);
    // a plot for the report, judged by nothing: a failed read leaves it empty, said on stderr
    const series = await bestEffortOr(
      prom.range(query, Math.floor(run.startSec), Math.ceil(run.endSec), 1),
      [],
      `reading the time series "${ts.title}"`,
    );
    const points = (series[0]?.values ?? []).map(
      ([t, v]) => [Math.round(t - run.startSec), v] as [number, number],
    );
    plots.push({ title: ts.title, unit: ts.unit, series: [{ name: ts.title, points }] });
    const everySec = Math.max(1, Math.ceil(points.length / maxRows));
    const rows = points.filter(([t]) => t % everySec === 0);
    sections.push({
      title: `${ts.title} over time`,
      markdown: points.length
        ? [
            `\`${query}\`, one point per second from the start of the workload (max ${Math.max(...points.map(([, v]) => v))}${ts.unit ? ` ${ts.unit}` : ''}):`,
            '',
            '`' + sparkline(points.map(([, v]) => v)) + '`',
            '',
            `| t (s) | ${ts.unit ?? 'value'} |`,
            '|---|---|',
            ...rows.map(([t, v]) => `| ${t} | ${v} |`),
          ].join('\n')
        : `\`${query}\`: no samples in the run's window`,
    });
  }
  return { plots, sections };
}
