import * as fs from 'node:fs';
import * as path from 'node:path';
import { brokerIds, labPaths, type LabConfig, type PortName } from '../../lib/config';
import type { Component } from './component';

export interface ProxyDecl {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

/**
 * Every proxy of the lab. Clients reach Kafka, MySQL and Redis only through these, so any fault can be
 * put on the wire. The repository's toxiproxy.json is this list for the default ports, docker/toxiproxy.json its compose form
 * (composeProxyDecls); a test keeps both equal.
 */
export function proxyDecls(c: LabConfig): ProxyDecl[] {
  const h = c.host;
  const p = c.ports;
  const out: ProxyDecl[] = [
    { name: 'mysql', listen: `${h}:${p.mysql}`, upstream: `${h}:${p.mysqlUpstream}`, enabled: true },
    { name: 'redis', listen: `${h}:${p.redis}`, upstream: `${h}:${p.redisUpstream}`, enabled: true },
  ];
  for (const id of brokerIds(c)) {
    out.push({ name: `kafka-${id}`, listen: `${h}:${p.kafkaClient + id - 1}`, upstream: `${h}:${p.kafkaClientUpstream + id - 1}`, enabled: true });
    out.push({ name: `kafka-${id}-internal`, listen: `${h}:${p.kafkaInternal + id - 1}`, upstream: `${h}:${p.kafkaInternalUpstream + id - 1}`, enabled: true });
  }
  return out;
}

/** The port of a `host:port` address. */
const portOf = (address: string) => address.slice(address.lastIndexOf(':') + 1);

/** Where docker-compose's network reaches MySQL and Redis (Kafka's listeners keep the embedded upstream ports). */
const COMPOSE_UPSTREAMS: Record<string, string> = { mysql: 'mysql:3306', redis: 'redis:6379' };

/**
 * The same proxies as docker-compose runs them (docker/toxiproxy.json, a test keeps them equal): each listening on
 * every interface of its container at the embedded listen port, its upstream by compose service name.
 */
export function composeProxyDecls(c: LabConfig): ProxyDecl[] {
  return proxyDecls(c).map((d) => ({
    ...d,
    listen: `0.0.0.0:${portOf(d.listen)}`,
    upstream: COMPOSE_UPSTREAMS[d.name] ?? `${d.name.replace(/-internal$/, '')}:${portOf(d.upstream)}`,
  }));
}

export const toxiproxyUrl = (c: LabConfig) => `http://${c.host}:${c.ports.toxiproxy}`;

export function toxiproxyComponent(c: LabConfig, binary: () => string): Component {
  const conf = path.join(labPaths(c).conf, 'toxiproxy.json');
  const keyOf = (name: string): PortName => (name.endsWith('-internal') ? 'kafkaInternal' : name.startsWith('kafka') ? 'kafkaClient' : (name as PortName));
  const listenPorts = proxyDecls(c).map((d) => ({ key: keyOf(d.name), port: Number(d.listen.split(':')[1]) }));
  return {
    name: 'toxiproxy',
    ports: [{ key: 'toxiproxy', port: c.ports.toxiproxy }, ...listenPorts],
    async prepare() {
      fs.mkdirSync(path.dirname(conf), { recursive: true });
      fs.writeFileSync(conf, JSON.stringify(proxyDecls(c), null, 2) + '\n');
    },
    spec: () => ({
      name: 'toxiproxy',
      command: binary(),
      args: ['-host', c.host, '-port', String(c.ports.toxiproxy), '-config', conf, '-proxy-metrics', '-runtime-metrics'],
    }),
    async healthy() {
      const res = await fetch(`${toxiproxyUrl(c)}/proxies`, { signal: AbortSignal.timeout(1000) });
      if (!res.ok) return false;
      const proxies = (await res.json()) as Record<string, unknown>;
      return proxyDecls(c).every((d) => d.name in proxies);
    },
    startTimeoutMs: 15_000,
    scrape: { job: 'toxiproxy', target: `${c.host}:${c.ports.toxiproxy}` },
  };
}
