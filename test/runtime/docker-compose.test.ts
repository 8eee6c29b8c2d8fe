import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig, PORT_DEFAULTS } from '../../src/lib/config';
import { composeProxyDecls, proxyDecls } from '../../src/runtime/components/toxiproxy';
import { containerName } from '../../src/runtime/driver/docker';
import { SECOND_INSTANCES, SERVICES, SERVICE_NAMES, validateModes } from '../../src/runtime/services';

const root = path.resolve(__dirname, '../../..');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  container_name?: string;
  ports?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  network_mode?: string;
  volumes?: string[];
  environment?: Record<string, string | number>;
  command?: string[];
}

/** Compose's short port syntax, `[ip:]host:container`: which interface and host port a service is published on. */
function published(p: string): { ip?: string; host: number; container: string } {
  const parts = p.split(':');
  return parts.length === 3 ? { ip: parts[0], host: Number(parts[1]), container: parts[2] } : { host: Number(parts[0]), container: parts[1] };
}

/** Paths written at run time rather than kept in git. */
const RUNTIME_PATHS = ['./reports'];

describe('docker-compose.yml (validated statically: no Docker engine here)', () => {
  const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  const services = compose.services;
  const names = Object.keys(services);

  it('covers the whole topology: 3 KRaft brokers, schema registry, kafka-ui, MySQL 8 + Flyway, Redis, Toxiproxy, Prometheus + exporters, Grafana, the lab services and the lab UI', () => {
    expect(names).to.include.members(['kafka-1', 'kafka-2', 'kafka-3', 'schema-registry', 'kafka-ui', 'mysql', 'flyway', 'redis', 'toxiproxy', 'prometheus', 'mysqld-exporter', 'redis-exporter', 'grafana', 'lab-ui']);
    expect(names).to.include.members(SERVICE_NAMES.filter((s) => !SECOND_INSTANCES.includes(s)));
    expect(services.mysql.image).to.match(/^mysql:8\./);
    for (const id of [1, 2, 3]) expect(services[`kafka-${id}`].environment).to.include({ KAFKA_PROCESS_ROLES: 'broker,controller', KAFKA_NODE_ID: id });
  });

  it('pins every image to a version (no latest), including the base of the image it builds', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, `${name}: image`).to.match(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, `${name}: image`).not.to.match(/:latest$/);
      if (s.build) {
        const from = fs.readFileSync(path.join(root, s.build.context, s.build.dockerfile), 'utf8').match(/^FROM\s+(\S+)/gm) ?? [];
        expect(from, `${name}: FROM`).to.not.be.empty;
        for (const f of from) expect(f, `${name}: ${f}`).to.match(/^FROM\s+[\w./-]+:\d[\w.-]*$/);
      }
    }
  });

  it('names each container lab-<service>, which is what the docker runtime driver kills and pauses', () => {
    for (const [name, s] of Object.entries(services)) expect(s.container_name, name).to.equal(containerName(name));
  });

  it('publishes the same ports as the embedded runtime, each host port once', () => {
    const hostPorts = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => published(p).host));
    expect(new Set(hostPorts).size).to.equal(hostPorts.length);
    const expected = [PORT_DEFAULTS.toxiproxy, PORT_DEFAULTS.mysql, PORT_DEFAULTS.redis, PORT_DEFAULTS.prometheus, PORT_DEFAULTS.labUi, PORT_DEFAULTS.schemaRegistry,
      PORT_DEFAULTS.mysqldExporter, PORT_DEFAULTS.redisExporter, PORT_DEFAULTS.kafkaClient, PORT_DEFAULTS.kafkaClient + 1, PORT_DEFAULTS.kafkaClient + 2,
      // outbox-relay-2 exists for E-011's two racing relays, in the embedded runtime only.
      ...SERVICE_NAMES.filter((s) => s !== 'outbox-relay-2').map((s) => PORT_DEFAULTS[SERVICES[s].portKey])];
    expect(hostPorts).to.include.members(expected);
  });

  it('binds every published port to 127.0.0.1 only: MySQL, Redis, the Toxiproxy API and the rest are not reachable from the network', () => {
    const ports = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => ({ name, p, ...published(String(p)) })));
    expect(ports, 'published ports').to.not.be.empty;
    for (const { name, p, ip, host } of ports) {
      expect(ip, `${name} publishes "${p}": write it "127.0.0.1:${p}"`).to.equal('127.0.0.1');
      expect(Number.isInteger(host), `${name}: "${p}"`).to.equal(true);
    }
  });

  it('depends only on services that exist, and shares network namespaces only with them', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(names, `${name} depends_on ${d}`).to.include(d);
      if (s.network_mode) expect(names, `${name} network_mode`).to.include(s.network_mode.replace(/^service:/, ''));
    }
  });

  it('mounts only paths that exist in the repository', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const local = v.split(':')[0];
        if (!local.startsWith('./') || RUNTIME_PATHS.includes(local)) continue;
        expect(fs.existsSync(path.join(root, local)), `${name} mounts ${local}`).to.equal(true);
      }
    }
  });

  it('gives Toxiproxy the same proxies as the embedded runtime (toxiproxy.json)', () => {
    const read = (f: string) => JSON.parse(fs.readFileSync(path.join(root, f), 'utf8')) as unknown;
    // One truth, proxyDecls: the root file is it for the default ports, docker/toxiproxy.json its compose form.
    const defaults = loadConfig({}, root);
    expect(read('toxiproxy.json')).to.deep.equal(proxyDecls(defaults));
    expect(read('docker/toxiproxy.json')).to.deep.equal(composeProxyDecls(defaults));
  });

  it('gives each lab service only environment it reads, with modes the service accepts', () => {
    // What the code reads: the keys of its zod env schemas, and the LAB_* names in src/lib and the service.
    const sources = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.ts')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
    const lib = sources(path.join(root, 'src/lib')) + sources(path.join(root, 'src/services/common'));
    for (const name of [...SERVICE_NAMES.filter((s) => !SECOND_INSTANCES.includes(s)), 'lab-ui']) {
      const s = services[name];
      const entry = s.command?.find((a) => a.startsWith('dist/'));
      expect(entry, `${name}: command`).to.be.a('string');
      const srcDir = path.join(root, path.dirname(entry!).replace(/^dist\//, ''));
      expect(fs.existsSync(srcDir), `${name}: ${srcDir}`).to.equal(true);
      const read = lib + sources(srcDir);
      for (const key of Object.keys(s.environment ?? {})) expect(read, `${name} sets ${key}, which nothing reads`).to.contain(key);
      if (name !== 'lab-ui') {
        const modes = Object.fromEntries(Object.entries(s.environment ?? {}).filter(([k]) => k in SERVICES[name as keyof typeof SERVICES].modes).map(([k, v]) => [k, String(v)]));
        expect(() => validateModes(name, modes), name).not.to.throw();
      }
    }
  });
});
