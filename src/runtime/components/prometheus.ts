import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { labPaths, type LabConfig } from '../../lib/config';
import type { Component } from './component';
import { redisClusterScrapeJob } from './redis-cluster';

/** The lab services' /metrics ports. They may be down (services not started); that is not an infra failure. */
export const SERVICE_TARGETS = (c: LabConfig) => [
  { service: 'command-service', port: c.ports.commandService },
  { service: 'query-service', port: c.ports.queryService },
  { service: 'query-service-2', port: c.ports.queryService2 },
  { service: 'consumer-service', port: c.ports.consumerService },
  { service: 'outbox-relay', port: c.ports.outboxRelay },
  { service: 'outbox-relay-2', port: c.ports.outboxRelay2 },
  { service: 'replay-worker', port: c.ports.replayWorker },
];

/** Scrape every 1 s: experiments last tens of seconds, and verdicts need several samples inside them. */
export function prometheusConfig(c: LabConfig, infra: Component[]): object {
  const byJob = new Map<string, { targets: string[]; labels?: Record<string, string> }[]>();
  const timing = new Map<string, { scrape_interval?: string; scrape_timeout?: string }>();
  for (const comp of infra) {
    if (!comp.scrape) continue;
    if (comp.scrape.interval) timing.set(comp.scrape.job, { scrape_interval: comp.scrape.interval, scrape_timeout: comp.scrape.timeout });
    const list = byJob.get(comp.scrape.job) ?? [];
    list.push({ targets: [comp.scrape.target], ...(comp.scrape.labels ? { labels: comp.scrape.labels } : {}) });
    byJob.set(comp.scrape.job, list);
  }
  return {
    global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '900ms' },
    rule_files: [path.join(c.root, 'prometheus/rules/*.yml')],
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: [`${c.host}:${c.ports.prometheus}`] }] },
      // JMX scrapes of the brokers take 0.1–0.7 s on a loaded 2-core box and grow with partitions: give them more room than the rest.
      ...[...byJob.entries()].map(([job, static_configs]) => ({ job_name: job, static_configs, ...(job === 'kafka' ? { scrape_interval: '5s', scrape_timeout: '4500ms' } : {}), ...timing.get(job) })),
      {
        job_name: 'lab-services',
        static_configs: SERVICE_TARGETS(c).map((t) => ({ targets: [`${c.host}:${t.port}`], labels: { service: t.service } })),
      },
      // Down unless `chaos up --redis cluster` ran; not an infra job (plain `up` does not wait for it).
      redisClusterScrapeJob(c),
      // The experiment engine's verdicts (src/experiments/run-metrics.ts): up only while `chaos exp run` runs.
      { job_name: 'lab-experiments', static_configs: [{ targets: [`${c.host}:${c.ports.experimentMetrics}`] }] },
    ],
  };
}

export const INFRA_JOBS = ['prometheus', 'kafka', 'mysqld', 'redis', 'toxiproxy', 'kafka-offsets', 'schema-registry'] as const;

/**
 * Prometheus' command line. The admin API (delete series, snapshots) and the lifecycle API (/-/reload, /-/quit)
 * are off: nothing in the lab calls them, and any local process or page could. LAB_PROMETHEUS_ADMIN_APIS=true
 * turns both on for someone who wants them by hand.
 */
export function prometheusArgs(c: LabConfig, conf: string, data: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const admin = env.LAB_PROMETHEUS_ADMIN_APIS === 'true' ? ['--web.enable-lifecycle', '--web.enable-admin-api'] : [];
  return [`--config.file=${conf}`, `--storage.tsdb.path=${data}`, `--web.listen-address=${c.host}:${c.ports.prometheus}`, '--storage.tsdb.retention.time=2d', ...admin];
}

/**
 * The config file's first line: a digest of prometheus/rules/*.yml. `chaos up` reloads a running Prometheus when its
 * config file changed; with the rules' digest in it, an edited or added rule (a recording rule a probe reads) is
 * loaded by the next up too, not only by a restart.
 */
export function rulesDigestLine(c: LabConfig): string {
  const dir = path.join(c.root, 'prometheus/rules');
  const hash = createHash('sha256');
  for (const f of fs.readdirSync(dir).filter((name) => name.endsWith('.yml')).sort())
    hash.update(`${f}\0`).update(fs.readFileSync(path.join(dir, f)));
  return `# rules ${hash.digest('hex').slice(0, 16)}`;
}

export function prometheusComponent(c: LabConfig, infra: Component[]): Component {
  const conf = path.join(labPaths(c).conf, 'prometheus.yml');
  const data = path.join(labPaths(c).data, 'prometheus');
  const base = `http://${c.host}:${c.ports.prometheus}`;
  return {
    name: 'prometheus',
    ports: [{ key: 'prometheus', port: c.ports.prometheus }],
    async prepare() {
      fs.mkdirSync(data, { recursive: true });
      fs.writeFileSync(conf, `${rulesDigestLine(c)}\n${stringify(prometheusConfig(c, infra))}`);
    },
    spec: () => ({
      name: 'prometheus',
      command: '/usr/bin/prometheus',
      args: prometheusArgs(c, conf, data),
    }),
    healthy: async () => (await fetch(`${base}/-/ready`, { signal: AbortSignal.timeout(1500) })).ok,
    startTimeoutMs: 30_000,
  };
}
