import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { DASHBOARDS, dashboardJson, writeDashboards } from '../../src/dashboards';
import {
  dashboardFiles,
  dashboardsDir,
  interpolate,
  loadDashboard,
  panelQueries,
  provisionedDatasourceUid,
  provisioningDir,
} from './dashboards';

const PANEL_TYPES = new Set([
  'row',
  'timeseries',
  'stat',
  'table',
  'gauge',
  'bargauge',
  'text',
  'state-timeline',
]);
const BUILTIN_VARS = new Set([
  '__range',
  '__rate_interval',
  '__interval',
  '__range_s',
  '__interval_ms',
  '__all',
]);
const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

describe('grafana dashboards and provisioning', () => {
  const uid = provisionedDatasourceUid();

  it('provisions one Prometheus datasource with a uid, and a file provider for the dashboards', () => {
    expect(uid).to.be.a('string').and.not.be.empty;
    const dir = path.join(provisioningDir, 'dashboards');
    const providers = fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => parse(fs.readFileSync(path.join(dir, f), 'utf8')).providers ?? []);
    expect(providers).to.have.length.greaterThan(0);
    for (const p of providers)
      expect(p, p.name)
        .to.deep.include({ type: 'file' })
        .and.to.have.nested.property('options.path');
  });

  it('has the Kafka, outbox/consumers, cache/DB and experiments dashboards, as src/dashboards builds them', () => {
    expect(dashboardFiles()).to.deep.equal([
      'lab-cache-db.json',
      'lab-experiments.json',
      'lab-kafka.json',
      'lab-pipeline.json',
    ]);
    expect(DASHBOARDS.map(([f]) => f).sort()).to.deep.equal(dashboardFiles());
    for (const [f, d] of DASHBOARDS)
      expect(dashboardJson(d), `${f} is stale: run npm run dashboards`).to.equal(
        fs.readFileSync(path.join(dashboardsDir, f), 'utf8'),
      );
  });

  it('writes every dashboard file into a directory (npm run dashboards -- DIR)', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboards-'));
    try {
      const written = writeDashboards(path.join(tmp, 'out'));
      expect(written.map((f) => path.basename(f)).sort()).to.deep.equal(dashboardFiles());
      for (const f of written)
        expect(fs.readFileSync(f, 'utf8')).to.equal(
          fs.readFileSync(path.join(dashboardsDir, path.basename(f)), 'utf8'),
        );
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  for (const file of dashboardFiles()) {
    describe(file, () => {
      const d = loadDashboard(file);
      const vars = new Set(d.templating.list.map((v) => v.name));

      it('has the fields Grafana imports: uid, title, schemaVersion, time, templating, panels', () => {
        expect(d.uid).to.match(/^[a-zA-Z0-9_-]{1,40}$/);
        expect(d.title).to.be.a('string').and.not.be.empty;
        expect(d.schemaVersion).to.be.a('number').within(30, 41);
        expect(d.time).to.be.an('object');
        expect(d.panels).to.be.an('array').and.not.be.empty;
      });

      it('gives every panel a unique id, a known type and a gridPos inside the 24-column grid, without overlaps', () => {
        const ids = d.panels.map((p) => p.id);
        expect(new Set(ids).size, 'duplicate panel ids').to.equal(ids.length);
        const cells = new Set<string>();
        for (const p of d.panels) {
          expect(PANEL_TYPES.has(p.type), `${p.title}: type ${p.type}`).to.equal(true);
          const g = p.gridPos;
          for (const k of ['h', 'w', 'x', 'y'] as const)
            expect(Number.isInteger(g[k]) && g[k] >= 0, `${p.title}: gridPos.${k}`).to.equal(true);
          expect(g.x + g.w, `${p.title}: x + w`).to.be.at.most(24);
          for (let y = g.y; y < g.y + g.h; y++)
            for (let x = g.x; x < g.x + g.w; x++) {
              expect(
                cells.has(`${x},${y}`),
                `${p.title} overlaps another panel at ${x},${y}`,
              ).to.equal(false);
              cells.add(`${x},${y}`);
            }
        }
      });

      it('points every panel, query, variable and annotation at the provisioned datasource', () => {
        for (const p of d.panels.filter((x) => x.type !== 'row')) {
          expect(p.datasource?.uid, p.title).to.equal(uid);
          expect(p.targets, p.title).to.be.an('array').and.not.be.empty;
          expect(new Set(p.targets!.map((t) => t.refId)).size, `${p.title}: refIds`).to.equal(
            p.targets!.length,
          );
          for (const t of p.targets!) {
            expect(t.datasource?.uid, `${p.title} ${t.refId}`).to.equal(uid);
            expect(t.expr, `${p.title} ${t.refId}`).to.be.a('string').and.not.be.empty;
          }
        }
        for (const v of d.templating.list)
          if (v.type === 'query') expect(v.datasource?.uid, `variable ${v.name}`).to.equal(uid);
        for (const a of d.annotations?.list ?? [])
          if (a.expr) expect(a.datasource?.uid).to.equal(uid);
      });

      it('defines every variable its queries use', () => {
        for (const p of d.panels)
          for (const t of p.targets ?? []) {
            for (const m of t.expr.matchAll(/\$\{?([A-Za-z_]\w*)(?::\w+)?\}?/g)) {
              expect(
                vars.has(m[1]) || BUILTIN_VARS.has(m[1]),
                `${p.title}: $${m[1]} is not a variable of ${file}`,
              ).to.equal(true);
            }
          }
      });
    });
  }

  it('has PromQL that parses (promtool check rules, variables filled in as Grafana would)', function () {
    this.timeout(60_000);
    const rules = panelQueries().map((q, i) => ({
      record: `lab:dashboard_check_${i}`,
      expr: interpolate(q.expr, { runs: ['e-001-s42-abc123'], rangeSec: 900 }),
    }));
    const ann = dashboardFiles().flatMap((f) =>
      (loadDashboard(f).annotations?.list ?? [])
        .filter((a) => a.expr)
        .map((a, i) => ({
          record: `lab:dashboard_ann_${f.replace(/\W/g, '_')}_${i}`,
          expr: a.expr!,
        })),
    );
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dash-rules-')), 'rules.yml');
    fs.writeFileSync(
      tmp,
      stringify({ groups: [{ name: 'dashboards', rules: [...rules, ...ann] }] }),
    );
    const r = spawnSync(PROMTOOL, ['check', 'rules', tmp], { encoding: 'utf8', timeout: 60_000 });
    if (r.error)
      throw new Error(
        `cannot run ${PROMTOOL} (${r.error.message}); apt-get install -y prometheus, or set PROMTOOL`,
      );
    expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
  });
});
