import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResult } from '../experiments/engine';
import { markdownReport, writeReport } from '../experiments/report';
import { LabError } from '../lib/errors';
import type { PrometheusClient } from '../lib/prometheus';
import { htmlReport } from './html-page';
import { indexHtml, type IndexEntry } from './index-page';
import { junitXml } from './junit';
import { collectObservations } from './key-series';
import { noObservations, type Observations } from './types';

export class ReportNotFoundError extends LabError {}

export const OBSERVATIONS_FILE = 'prometheus.json';

/** The window a run's plots and alerts cover: from its start (reset included) to its end, plus a scrape or two. */
export function runWindow(r: RunResult): { startSec: number; endSec: number } {
  const startSec = Date.parse(r.startedAt) / 1000;
  return { startSec, endSec: Math.max(startSec + r.durationSec, r.window.endSec) + 2 };
}

/** Asks Prometheus for the run's key series and alerts; never throws (a report without plots beats none). */
export async function observeRun(prom: PrometheusClient, r: RunResult): Promise<Observations> {
  const w = runWindow(r);
  try {
    return await collectObservations(prom, { runId: r.runId, topic: r.topic, ...w });
  } catch (err) {
    return noObservations(`Prometheus not queried: ${(err as Error).message}`, w.startSec, w.endSec);
  }
}

export interface ReportFiles {
  dir: string;
  html: string;
  markdown: string;
  junit: string;
  journal: string;
}

/** report.html, report.md (with alerts), junit.xml and prometheus.json from a run and what Prometheus saw. */
export function writeRendered(dir: string, r: RunResult, obs: Observations): ReportFiles {
  fs.mkdirSync(dir, { recursive: true });
  const files = { dir, html: path.join(dir, 'report.html'), markdown: path.join(dir, 'report.md'), junit: path.join(dir, 'junit.xml'), journal: path.join(dir, 'journal.json') };
  fs.writeFileSync(path.join(dir, OBSERVATIONS_FILE), JSON.stringify(obs));
  fs.writeFileSync(files.html, htmlReport(r, obs));
  fs.writeFileSync(files.markdown, markdownReport(r, obs.errors.length && !obs.alerts.length ? undefined : obs.alerts));
  fs.writeFileSync(files.junit, junitXml([r]));
  return files;
}

/** Everything of a finished run: journal.json, then the observations from Prometheus, then the rendered files. */
export async function writeRunReport(prom: PrometheusClient, dir: string, r: RunResult): Promise<{ files: ReportFiles; obs: Observations }> {
  writeReport(dir, r);
  const obs = await observeRun(prom, r);
  return { files: writeRendered(dir, r, obs), obs };
}

/** A run as journal.json keeps it (latencies folded into p50/p99): enough for every renderer. */
export function loadRun(dir: string): RunResult {
  const file = path.join(dir, 'journal.json');
  if (!fs.existsSync(file)) throw new ReportNotFoundError(`${file} does not exist: give a directory written by \`chaos exp run --report DIR\` (or reports/<run id>)`);
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as RunResult;
  return { ...j, alerts: j.alerts ?? [], workload: { ...j.workload, latenciesMs: j.workload.latenciesMs ?? [] } };
}

export function loadObservations(dir: string): Observations | undefined {
  const file = path.join(dir, OBSERVATIONS_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Observations) : undefined;
}

/**
 * Re-renders a report directory from its journal.json and prometheus.json. Without prometheus.json (a report from
 * before it existed, or a test's) it asks `prom` if given — Prometheus keeps two days — else renders without plots.
 */
export async function rerender(dir: string, prom?: PrometheusClient): Promise<{ files: ReportFiles; obs: Observations; result: RunResult }> {
  const result = loadRun(dir);
  const obs = loadObservations(dir) ?? (prom ? await observeRun(prom, result) : noObservations('no prometheus.json beside journal.json and Prometheus not asked', ...Object.values(runWindow(result)) as [number, number]));
  return { files: writeRendered(dir, result, obs), obs, result };
}

/** index.html and a combined junit.xml in `root` for several runs (`chaos exp run all`). */
export function writeIndex(root: string, runs: { dir: string; result: RunResult; obs: Observations }[]): { index: string; junit: string } {
  fs.mkdirSync(root, { recursive: true });
  const entries: IndexEntry[] = runs.map((x) => ({ result: x.result, obs: x.obs, href: path.relative(root, path.join(x.dir, 'report.html')).split(path.sep).join('/') }));
  const index = path.join(root, 'index.html');
  const junit = path.join(root, 'junit.xml');
  fs.writeFileSync(index, indexHtml(entries));
  fs.writeFileSync(junit, junitXml(runs.map((x) => x.result)));
  return { index, junit };
}

/** Report directories under `root` (one level down), in name order: what an index covers when re-rendered. */
export function findRunDirs(root: string): string[] {
  if (!fs.existsSync(root)) throw new ReportNotFoundError(`${root} does not exist`);
  return fs.readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'journal.json'))).map((d) => path.join(root, d.name)).sort();
}
