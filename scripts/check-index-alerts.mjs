#!/usr/bin/env node
// Checks a rendered index.html (`chaos exp run all`): no row lists an alert of another run. For each row, every
// alert named outside its grey "carried over" line must be one its run counted (journal.json's `alerts`), and at
// least one instance of it (prometheus.json) must be the run's own: labelled with its run id, on its topic, or
// cluster-wide and active since the run's window started. Exit 1 with each offending row, 0 when all hold.
//   node scripts/check-index-alerts.mjs reports/all-<time>
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = process.argv[2];
if (!root || !fs.existsSync(path.join(root, 'index.html'))) {
  console.error(
    `usage: check-index-alerts.mjs <report root holding index.html> (got ${root ?? 'nothing'})`,
  );
  process.exit(2);
}
const html = fs.readFileSync(path.join(root, 'index.html'), 'utf8');
const rows = [...html.matchAll(/<tr data-outcome="[^"]*">(.*?)<\/tr>/gs)].map((m) => m[1]);
if (!rows.length) {
  console.error(`${root}/index.html has no run rows`);
  process.exit(1);
}

function ownInstance(a, run) {
  const { run: label, topic } = a.labels ?? {};
  if (label !== undefined) return label === run.runId;
  if (topic !== undefined) return topic.includes(run.runId);
  const since =
    a.activeSinceEpochSec ??
    (a.pendingAtSec === undefined ? undefined : run.window.startSec + a.pendingAtSec);
  return since !== undefined && since >= Math.floor(run.window.startSec);
}

const problems = [];
let listed = 0;
for (const row of rows) {
  const href = /<a href="([^"]+)"/.exec(row)?.[1];
  const dir = path.dirname(path.join(root, href));
  const run = JSON.parse(fs.readFileSync(path.join(dir, 'journal.json'), 'utf8'));
  const obsFile = path.join(dir, 'prometheus.json');
  const seen = fs.existsSync(obsFile) ? JSON.parse(fs.readFileSync(obsFile, 'utf8')).alerts : [];
  const cell = /<td class="small alerts">(.*?)<\/td>/s.exec(row)?.[1] ?? '';
  const own = cell.replace(/<details class="carried">.*?<\/details>/gs, '');
  const counted = new Set(run.alerts.map((a) => a.alertname));
  for (const [, name] of own.matchAll(/<span class="sev-[^"]*">([^<]+)<\/span>/g)) {
    listed++;
    const instances = [...seen, ...run.alerts].filter((a) => a.alertname === name);
    if (!counted.has(name))
      problems.push(`${run.runId}: lists ${name}, which its journal does not count`);
    else if (!instances.some((a) => ownInstance(a, run)))
      problems.push(`${run.runId}: lists ${name}, but no instance of it is this run's`);
  }
}
for (const p of problems) console.error(p);
console.log(
  `${rows.length} rows, ${listed} alerts listed as a run's own, ${problems.length} of another run`,
);
process.exit(problems.length ? 1 : 0);
