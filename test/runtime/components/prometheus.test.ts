import { expect } from 'chai';
import { loadConfig } from '../../../src/lib/config';
import { prometheusArgs } from '../../../src/runtime/components/prometheus';

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
