import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { alertRules } from '../../src/experiments/alert-rules';
import { unloadedAlerts } from '../../src/experiments/preflight';
import { AlertExpectationSchema } from '../../src/experiments/schema';
import type { LabConfig } from '../../src/lib/config';
import { PrometheusClient } from '../../src/lib/prometheus';
import { serviceStatus } from '../../src/runtime/services';
import { ensureLab } from '../support/lab';

const WITH_BAD_PROMQL = `id: E-902
title: An experiment whose probe Prometheus cannot parse
description: used by the preflight test only
expected: controlled
services:
  command-service: { modes: { COMMAND_MODE: outbox } }
workload: { kind: commands, commands: 10, products: 2 }
method:
  - name: a toxic that must never be added
    at: start
    fault: { type: latency, proxy: mysql, latencyMs: 500 }
steady-state-hypothesis:
  title: n/a
  probes:
    - { name: broken, type: promql, query: 'sum(rate(lab_command_requests_total[5m]', tolerance: { gt: 0 } }
`;

describe('experiment preflight', function () {
  this.timeout(120_000);
  let c: LabConfig;
  before(async () => {
    c = await ensureLab();
  });

  it('rejects bad PromQL before any reset, service start or fault, naming the probe', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-pre-'));
    fs.mkdirSync(path.join(dir, 'E-902-bad'));
    const file = path.join(dir, 'E-902-bad', 'experiment.yaml');
    fs.writeFileSync(file, WITH_BAD_PROMQL);
    const res = spawnSync(process.execPath, [path.join(c.root, 'bin/run.js'), 'exp', 'run', file], {
      cwd: c.root,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(res.status).to.equal(2);
    expect(res.stderr)
      .to.match(/not a valid experiment/)
      .and.match(/probe "broken".*(parse error|unclosed)/i);
    const toxics = await (
      await fetch(`http://${c.host}:${c.ports.toxiproxy}/proxies/mysql/toxics`)
    ).json();
    expect(toxics).to.deep.equal([]);
    expect(
      (await serviceStatus(c)).filter((s) => s.running && s.service === 'command-service'),
    ).to.deep.equal([]);
  });

  it('rejects a metric name neither Prometheus nor METRICS.md knows, before anything runs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-pre-'));
    fs.mkdirSync(path.join(dir, 'E-902-bad'));
    const file = path.join(dir, 'E-902-bad', 'experiment.yaml');
    const typo = 'sum(max_over_time(lab_command_comits_total{run="$RUN"}[$WINDOW]))';
    fs.writeFileSync(
      file,
      WITH_BAD_PROMQL.replace("'sum(rate(lab_command_requests_total[5m]'", `'${typo}'`),
    );
    const res = spawnSync(process.execPath, [path.join(c.root, 'bin/run.js'), 'exp', 'run', file], {
      cwd: c.root,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(res.status).to.equal(2);
    expect(res.stderr).to.match(
      /probe "broken": no metric named lab_command_comits_total in Prometheus or METRICS\.md/,
    );
  });

  it('finds every alert of prometheus/rules/*.yml among the rules Prometheus loaded, and no unknown name', async () => {
    const prom = new PrometheusClient(`http://${c.host}:${c.ports.prometheus}`);
    const names = [...alertRules(c.root).keys()];
    const alerts = { run: AlertExpectationSchema.parse({ silent: [...names, 'LabNoSuchAlert'] }) };
    expect(await unloadedAlerts(alerts, prom, c.root)).to.deep.equal([
      `alerts.run.silent: "LabNoSuchAlert": Prometheus has no alert rule of that name; the names it loaded are ${names.sort().join(', ')}`,
    ]);
  });

  it('rejects an unknown experiment id with the list of known ones (exit 2)', () => {
    const res = spawnSync(
      process.execPath,
      [path.join(c.root, 'bin/run.js'), 'exp', 'run', 'E-777'],
      { cwd: c.root, encoding: 'utf8' },
    );
    expect(res.status).to.equal(2);
    expect(res.stderr).to.match(/unknown experiment "E-777"; known: E-001/);
  });
});
