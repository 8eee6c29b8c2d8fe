/**
 * Every Grafana dashboard of the lab, by file name, and writeDashboards() which writes them as
 * grafana/dashboards/*.json (`npm run dashboards`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dashboard } from './builder';
import { cacheDb } from './cache-db';
import { experiments } from './experiments';
import { kafka } from './kafka';
import { pipeline } from './pipeline';

export const DASHBOARDS: readonly (readonly [file: string, dashboard: Dashboard])[] = [
  ['lab-kafka.json', kafka],
  ['lab-pipeline.json', pipeline],
  ['lab-cache-db.json', cacheDb],
  ['lab-experiments.json', experiments],
];

/** The file text Grafana provisions: the dashboard as 2-space JSON and a final newline. */
export function dashboardJson(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

/** Writes every dashboard into `dir` (created if missing); returns the paths written. */
export function writeDashboards(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return DASHBOARDS.map(([file, d]) => {
    const to = path.join(dir, file);
    fs.writeFileSync(to, dashboardJson(d));
    return to;
  });
}
