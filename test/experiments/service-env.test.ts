import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { findRoot } from '../../src/lib/config';
import {
  allowedServiceEnv,
  checkServiceEnv,
  COMMON_SERVICE_SETTINGS,
  ISOLATION_KEYS,
} from '../../src/experiments/service-env';
import { SERVICE_NAMES, SERVICES } from '../../src/runtime/services';

const root = findRoot(__dirname);
const sources = (dir: string) =>
  fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');

describe('service env allow-list (what an experiment may set for a service)', () => {
  it('refuses NODE_OPTIONS, LD_PRELOAD and PATH, naming the place and the allowed settings', () => {
    const problems = checkServiceEnv('consumer-service', {
      NODE_OPTIONS: '--require /tmp/x.js',
      LD_PRELOAD: '/tmp/x.so',
      PATH: '/tmp',
      CONSUMER_MAX_ATTEMPTS: '3',
    });
    expect(problems).to.have.length(3);
    expect(problems[0]).to.match(
      /^services\.consumer-service\.env\.NODE_OPTIONS is not a setting of consumer-service \(it changes how the process runs, not what the service does\): allowed are .*CONSUMER_MAX_ATTEMPTS/,
    );
    expect(problems[1]).to.contain('services.consumer-service.env.LD_PRELOAD');
    expect(problems[2]).to.contain('services.consumer-service.env.PATH');
  });

  it("refuses another service's setting and an unknown service, and names a fault's env when told where", () => {
    expect(
      checkServiceEnv('consumer-service', { EVENT_SCHEMA: 'v2-compatible' }, 'method[3].fault.env'),
    ).to.deep.equal([
      `method[3].fault.env.EVENT_SCHEMA is not a setting of consumer-service: allowed are ${allowedServiceEnv('consumer-service')!.join(', ')}`,
    ]);
    expect(checkServiceEnv('billing-service', {})[0]).to.match(
      /billing-service is not a lab service: known are command-service, /,
    );
  });

  it('allows each service exactly its own settings and the common ones, the runtime-owned query instance and port excluded', () => {
    expect(allowedServiceEnv('outbox-relay')).to.include.members([
      'EVENT_ENCODING',
      'EVENT_SCHEMA',
      'RELAY_BATCH_SIZE',
      ...COMMON_SERVICE_SETTINGS,
    ]);
    expect(allowedServiceEnv('outbox-relay')).to.not.include('CONSUMER_SCHEMA');
    expect(allowedServiceEnv('query-service'))
      .to.include.members(['CACHE_TTL_MS', 'STAMPEDE', 'SOFT_TTL_MS'])
      .and.not.include.members(['SERVICE_INSTANCE', 'LAB_QUERY_SERVICE_PORT']);
    expect(allowedServiceEnv('query-service-2')).to.deep.equal(allowedServiceEnv('query-service'));
  });

  it('refuses every isolation key the engine sets per run, for every service, naming the key', () => {
    for (const service of SERVICE_NAMES) {
      expect(allowedServiceEnv(service), service).to.not.include.members([...ISOLATION_KEYS]);
      for (const key of ISOLATION_KEYS)
        expect(checkServiceEnv(service, { [key]: 'x' }), `${service} ${key}`).to.deep.equal([
          `services.${service}.env.${key}: the engine sets ${key} for each run, to keep runs apart (their topics, groups, caches and metrics); remove it from the file`,
        ]);
    }
  });

  it('knows every variable the engine sets for a run before the experiment\u2019s env (no list drifts from watcher.ts)', () => {
    const watcher = fs.readFileSync(path.join(root, 'src/experiments/watcher.ts'), 'utf8');
    const block = /env: \{([\s\S]*?)\.\.\.setup\.env/.exec(watcher)?.[1] ?? '';
    const set = [...block.matchAll(/\b([A-Z][A-Z0-9_]+):/g)].map((m) => m[1]);
    expect(set).to.include('LAB_TOPIC');
    expect(ISOLATION_KEYS).to.include.members(set);
  });

  it("allows only names the service's code reads (no list drifts from src/services)", () => {
    const common = sources(path.join(root, 'src/services/common'));
    for (const name of COMMON_SERVICE_SETTINGS)
      expect(common, name).to.contain(`process.env.${name}`);
    for (const service of SERVICE_NAMES) {
      const read = common + sources(path.join(root, 'src/services', SERVICES[service].entry));
      for (const name of allowedServiceEnv(service)!)
        expect(read, `${service}: ${name}`).to.contain(name);
    }
  });

  it('accepts the env every experiment in experiments/ sets for its services', () => {
    const dirs = fs
      .readdirSync(path.join(root, 'experiments'))
      .filter((d) => fs.existsSync(path.join(root, 'experiments', d, 'experiment.yaml')));
    expect(dirs).to.not.be.empty;
    for (const d of dirs) {
      const doc = parse(
        fs.readFileSync(path.join(root, 'experiments', d, 'experiment.yaml'), 'utf8'),
        { merge: true },
      ) as { services?: Record<string, { env?: Record<string, string> } | null> };
      for (const [service, spec] of Object.entries(doc.services ?? {}))
        expect(checkServiceEnv(service, spec?.env ?? {}), `${d}`).to.deep.equal([]);
    }
  });
});
