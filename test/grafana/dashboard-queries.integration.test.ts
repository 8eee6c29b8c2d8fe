import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunResult } from '../../src/experiments/engine';
import { prometheusClient } from '../../src/runtime/stack';
import type { Observations } from '../../src/reports/types';
import { ensureLab } from '../support/lab';
import { ABSENT_TOLERANT, interpolate, panelQueries, root } from './dashboards';

/** `chaos …` as a user runs it, with this process's environment (LAB_PORT_OFFSET included); bounded. */
function chaos(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 150_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(root, 'bin/run.js'), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGINT'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * One real experiment (E-001: outbox + relay crashes + idempotent consumer + cache, the run that touches the most
 * series) through `chaos exp run --report`, then: the report files it wrote, `chaos report` re-rendering them
 * without Prometheus, and every Grafana panel query run against the live Prometheus over that run's window.
 */
describe('experiment reports and dashboard queries against a real run', function () {
  this.timeout(240_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-report-'));
  let r: RunResult;

  before(async () => {
    await ensureLab();
    // One side: a single run writes its report straight into DIR.
    const out = await chaos([
      'exp',
      'run',
      'E-001',
      '--side',
      'pattern',
      '--seed',
      '11',
      '--report',
      dir,
      '--json',
    ]);
    expect(out.code, out.stderr.slice(-2000)).to.equal(0);
    r = JSON.parse(out.stdout) as RunResult;
  });

  it('writes a self-contained report.html with the verdict, plots and alerts, junit.xml and prometheus.json', () => {
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html)
      .to.include(r.runId)
      .and.include('>as expected</span>')
      .and.include('>controlled</span>')
      .and.include('<svg');
    expect(html).to.not.match(/<script|<link|src=/);
    const obs = JSON.parse(
      fs.readFileSync(path.join(dir, 'prometheus.json'), 'utf8'),
    ) as Observations;
    expect(obs.errors).to.deep.equal([]);
    const withData = obs.plots
      .filter((p) => p.series.some((s) => s.points.length))
      .map((p) => p.title);
    expect(withData).to.include.members([
      'Commands',
      'Events into the topic',
      'Consumer deliveries',
      'Outbox backlog',
      'Database',
      'Cache',
    ]);
    const junit = fs.readFileSync(path.join(dir, 'junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)).to.have.length(r.probes.length);
    expect(junit).to.include('failures="0" errors="0"');
    expect(fs.readFileSync(path.join(dir, 'report.md'), 'utf8')).to.include(
      '## Alerts during the run',
    );
  });

  it('re-renders the same report with `chaos report <dir>` and no Prometheus to ask', async () => {
    const before = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    fs.rmSync(path.join(dir, 'report.html'));
    const out = await chaos(['report', dir], { LAB_PROMETHEUS_PORT: '1025' }, 60_000);
    expect(out.code, out.stderr).to.equal(0);
    expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8')).to.equal(before);
  });

  it('returns data for every dashboard query over the run window (HW/LSO gauges tolerated only while absent)', async () => {
    const c = await ensureLab();
    const prom = prometheusClient(c);
    const start = Date.parse(r.startedAt) / 1000;
    const end = Date.now() / 1000;
    const names = new Set(
      (
        (await (await fetch(`${prom.baseUrl}/api/v1/label/__name__/values`)).json()) as {
          data: string[];
        }
      ).data,
    );
    const missing: string[] = [];
    const tolerated: string[] = [];
    for (const q of panelQueries()) {
      const expr = interpolate(q.expr, { runs: [r.runId], rangeSec: end - start });
      const where = `${q.file} "${q.panel}" ${q.refId}: ${expr}`;
      const series = q.instant
        ? (await prom.query(expr, end)).map((s) => ({ values: [[end, s.value]] }))
        : await prom.range(expr, start, end, 2);
      const hasData = series.some((s) => s.values.some(([, v]) => Number.isFinite(v)));
      if (hasData) continue;
      const absent = ABSENT_TOLERANT.find((t) => expr.includes(t.metric) && !names.has(t.metric));
      (absent ? tolerated : missing).push(absent ? `${where} (${absent.why})` : where);
    }
    if (tolerated.length)
      console.log(
        `      tolerated while their metric is absent:\n        ${tolerated.join('\n        ')}`,
      );
    expect(missing, `queries without data:\n${missing.join('\n')}`).to.deep.equal([]);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));
});
