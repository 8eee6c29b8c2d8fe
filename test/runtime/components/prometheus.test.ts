import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/lib/config';
import { prometheusArgs, rulesDigestLine } from '../../../src/runtime/components/prometheus';

describe('prometheus command line', () => {
  const c = loadConfig({});

  it('leaves the admin and lifecycle APIs off by default', () => {
    const args = prometheusArgs(c, '/conf.yml', '/data', {});
    expect(args).to.include('--config.file=/conf.yml');
    expect(args.filter((a) => /admin-api|lifecycle/.test(a))).to.deep.equal([]);
  });

  it('turns both on only when LAB_PROMETHEUS_ADMIN_APIS=true asks', () => {
    expect(prometheusArgs(c, '/conf.yml', '/data', { LAB_PROMETHEUS_ADMIN_APIS: 'true' })).to.include.members(['--web.enable-admin-api', '--web.enable-lifecycle']);
    expect(prometheusArgs(c, '/conf.yml', '/data', { LAB_PROMETHEUS_ADMIN_APIS: '1' }).filter((a) => /admin-api|lifecycle/.test(a))).to.deep.equal([]);
  });
});

describe('prometheus config file', () => {
  it('changes with the rule files, so that `chaos up` reloads a Prometheus whose rules were edited', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-rules-'));
    fs.mkdirSync(path.join(root, 'prometheus/rules/tests'), { recursive: true });
    const c = { ...loadConfig({}), root };
    const rules = path.join(root, 'prometheus/rules/lab-alerts.yml');
    fs.writeFileSync(rules, 'groups: []\n');
    const first = rulesDigestLine(c);
    expect(first).to.match(/^# rules [0-9a-f]{16}$/);
    fs.writeFileSync(path.join(root, 'prometheus/rules/tests/x.yml'), 'tests: []\n');
    expect(rulesDigestLine(c), 'unit tests are not rules').to.equal(first);
    fs.writeFileSync(rules, 'groups: [{ name: g, rules: [{ record: r, expr: up }] }]\n');
    expect(rulesDigestLine(c)).to.not.equal(first);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
