import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { findRoot } from '../../src/lib/config';

/**
 * The alert rules the lab's Prometheus loads (prometheus/rules/*.yml) must be valid, and their promtool unit tests
 * (prometheus/rules/tests/*.yml) must pass. promtool ships with Debian's prometheus package, which `chaos up` and
 * .ci/run install; PROMTOOL overrides the path.
 */
const root = findRoot(__dirname);
const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const rulesDir = path.join(root, 'prometheus/rules');
const ymls = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => path.join(dir, f));

function promtool(...args: string[]) {
  const r = spawnSync(PROMTOOL, args, { cwd: root, encoding: 'utf8', timeout: 180_000 });
  if (r.error)
    throw new Error(
      `cannot run ${PROMTOOL} (${r.error.message}); install it: apt-get install -y prometheus, or set PROMTOOL`,
    );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('prometheus alert rules', () => {
  it('has rule files and unit-test files', () => {
    expect(ymls(rulesDir), 'prometheus/rules/*.yml').to.not.be.empty;
    expect(ymls(path.join(rulesDir, 'tests')), 'prometheus/rules/tests/*.yml').to.not.be.empty;
  });

  it('passes `promtool check rules prometheus/rules/*.yml`', () => {
    const r = promtool('check', 'rules', ...ymls(rulesDir));
    expect(r.status, r.output).to.equal(0);
  });

  it('passes `promtool test rules prometheus/rules/tests/*.yml`', () => {
    const r = promtool('test', 'rules', ...ymls(path.join(rulesDir, 'tests')));
    expect(r.status, r.output).to.equal(0);
  });

  it('gives every alert a severity, a summary, a description and a runbook_url', () => {
    for (const file of ymls(rulesDir)) {
      for (const g of parse(fs.readFileSync(file, 'utf8')).groups ?? []) {
        for (const rule of g.rules ?? []) {
          if (!rule.alert) continue;
          const where = `${path.basename(file)}: ${rule.alert}`;
          expect(rule.labels?.severity, where).to.be.oneOf(['critical', 'warning', 'info']);
          for (const a of ['summary', 'description', 'runbook_url'])
            expect(rule.annotations?.[a], `${where} ${a}`).to.be.a('string').and.not.be.empty;
        }
      }
    }
  });

  it('has a unit test that fires each alert and one where it stays silent', () => {
    const alerts = ymls(rulesDir).flatMap((f) =>
      (parse(fs.readFileSync(f, 'utf8')).groups ?? []).flatMap(
        (g: { rules?: { alert?: string }[] }) =>
          (g.rules ?? []).map((r) => r.alert).filter(Boolean),
      ),
    );
    const fires = new Set<string>();
    const silent = new Set<string>();
    for (const f of ymls(path.join(rulesDir, 'tests'))) {
      for (const t of parse(fs.readFileSync(f, 'utf8')).tests ?? []) {
        for (const a of t.alert_rule_test ?? [])
          (a.exp_alerts?.length ? fires : silent).add(a.alertname);
      }
    }
    for (const a of alerts) {
      expect(fires.has(a), `${a}: no test case where it fires`).to.equal(true);
      expect(silent.has(a), `${a}: no test case where it stays silent`).to.equal(true);
    }
  });
});
