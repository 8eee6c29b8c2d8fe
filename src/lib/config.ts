import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors';

/**
 * Every port the lab uses, with its env override. Client-facing ports (kafka, mysql, redis) are Toxiproxy
 * listeners; the `*Upstream` ports are where the real servers listen, reached only by the proxies and exporters.
 */
export const PORT_DEFAULTS = {
  toxiproxy: 18474,
  mysql: 13306,
  mysqlUpstream: 23306,
  redis: 16379,
  redisUpstream: 26379,
  prometheus: 19090,
  mysqldExporter: 19104,
  redisExporter: 19121,
  /** kafka-offsets-exporter (node, src/exporters/kafka-offsets): HW and LSO per partition of the lab.* topics */
  kafkaOffsetsExporter: 19130,
  /** broker i (1..3) clients connect to kafkaClient+i-1 (a proxy) → kafkaClientUpstream+i-1 (the broker). */
  kafkaClient: 19092,
  kafkaClientUpstream: 29092,
  /** replication traffic also crosses a proxy so a leader can be isolated from its followers. */
  kafkaInternal: 19192,
  kafkaInternalUpstream: 29192,
  kafkaController: 29292,
  kafkaJmx: 29392,
  commandService: 18080,
  queryService: 18081,
  consumerService: 18082,
  outboxRelay: 18083,
  replayWorker: 18084,
  queryService2: 18085,
  /** a second outbox relay (E-011: two relays claiming one outbox) */
  outboxRelay2: 18087,
  /** the experiment engine's /metrics (verdicts for dashboards), served only while a run lasts */
  experimentMetrics: 18086,
  /** not 18090: LAB_PORT_OFFSET moves in steps of 1000, and 18090 + 1000 is another lab's Prometheus (19090) */
  labUi: 18099,
  schemaRegistry: 18091,
  /**
   * Redis Cluster (only with `chaos up --redis cluster`): node i (1..6) is reached by clients at
   * redisClusterProxy+i-1 (a proxy, the address it announces), listens at redisClusterNode+i-1 and gossips on
   * redisClusterBus+i-1 (direct, announced as is).
   */
  redisClusterProxy: 17000,
  redisClusterNode: 27000,
  redisClusterBus: 28000,
  redisClusterExporter: 19122,
} as const;
export type PortName = keyof typeof PORT_DEFAULTS;

/** LAB_MYSQL_PORT, LAB_KAFKA_CLIENT_PORT, … */
export const portEnvVar = (name: PortName) =>
  `LAB_${name.replace(/([A-Z0-9]+)/g, '_$1').toUpperCase()}_PORT`;

export const RUNTIMES = ['local', 'docker'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

const portSchema = z.coerce.number().int().min(1024).max(65535);

export const LabConfigSchema = z.object({
  root: z.string(),
  labDir: z.string(),
  host: z.literal('127.0.0.1'),
  kafkaVersion: z.string().regex(/^\d+\.\d+\.\d+$/, 'expected a version like 4.4.0'),
  brokerCount: z.literal(3),
  brokerHeapMb: z.coerce.number().int().min(192).max(4096),
  ports: z.object(
    Object.fromEntries(Object.keys(PORT_DEFAULTS).map((k) => [k, portSchema])) as Record<
      PortName,
      typeof portSchema
    >,
  ),
  isRoot: z.boolean(),
  ci: z.boolean(),
  /** who signals processes for faults: local pidfiles, or Docker containers of docker-compose.yml (LAB_RUNTIME / --runtime) */
  runtime: z.enum(RUNTIMES, {
    errorMap: () => ({ message: `expected one of ${RUNTIMES.join(', ')}` }),
  }),
});
export type LabConfig = z.infer<typeof LabConfigSchema>;

/** The repository root: the nearest ancestor holding our package.json. */
export function findRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'reliability-lab')
      return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new ConfigError(`cannot find the reliability-lab root above ${from}`);
    dir = up;
  }
}

/** Flag → env (LAB_*) → default, validated once. A bad value fails here with the variable to fix. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, root = findRoot()): LabConfig {
  // LAB_PORT_OFFSET shifts every default at once: a second lab (e.g. a CI check) beside a running one.
  const offset = Number(env.LAB_PORT_OFFSET ?? 0);
  if (!Number.isInteger(offset) || offset < -10000 || offset > 30000)
    throw new ConfigError(
      `LAB_PORT_OFFSET=${env.LAB_PORT_OFFSET} is invalid: expected an integer like 1000`,
    );
  const ports: Record<string, unknown> = {};
  for (const name of Object.keys(PORT_DEFAULTS) as PortName[])
    ports[name] = env[portEnvVar(name)] ?? PORT_DEFAULTS[name] + offset;
  const raw = {
    root,
    labDir: env.LAB_DIR ? path.resolve(env.LAB_DIR) : path.join(root, '.lab'),
    host: '127.0.0.1',
    kafkaVersion: env.LAB_KAFKA_VERSION ?? '4.4.0',
    brokerCount: 3,
    brokerHeapMb: env.LAB_BROKER_HEAP_MB ?? 384,
    ports,
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    ci: env.CI === 'true',
    runtime: env.LAB_RUNTIME || 'local',
  };
  const parsed = LabConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const p = i.path.join('.');
      const envVar = p.startsWith('ports.')
        ? portEnvVar(p.slice(6) as PortName)
        : p === 'kafkaVersion'
          ? 'LAB_KAFKA_VERSION'
          : p === 'brokerHeapMb'
            ? 'LAB_BROKER_HEAP_MB'
            : p === 'runtime'
              ? 'LAB_RUNTIME'
              : p;
      const val = p.startsWith('ports.') ? ports[p.slice(6)] : (raw as Record<string, unknown>)[p];
      return `${envVar}=${String(val)} is invalid: ${i.message}`;
    });
    throw new ConfigError(problems.join('\n'));
  }
  const dupes = findDuplicatePorts(parsed.data.ports);
  if (dupes.length) throw new ConfigError(`ports collide: ${dupes.join('; ')}`);
  return parsed.data;
}

function findDuplicatePorts(ports: Record<PortName, number>): string[] {
  const used = new Map<number, string>();
  const out: string[] = [];
  for (const [name, base] of Object.entries(ports) as [PortName, number][]) {
    const span = portSpan(name);
    for (let i = 0; i < span; i++) {
      const p = base + i;
      const other = used.get(p);
      if (other) out.push(`${portEnvVar(name)} and ${other} both use ${p}`);
      else used.set(p, portEnvVar(name));
    }
  }
  return out;
}

/** How many consecutive ports a name covers: one per broker, one per cluster node, one otherwise. */
const portSpan = (name: PortName) =>
  name.startsWith('kafka') ? 3 : /^redisCluster(Proxy|Node|Bus)$/.test(name) ? 6 : 1;

export const brokerIds = (c: LabConfig) => Array.from({ length: c.brokerCount }, (_, i) => i + 1);
/** The bootstrap list clients use: every broker's Toxiproxy listener. */
export const kafkaBootstrap = (c: LabConfig) =>
  brokerIds(c).map((id) => `${c.host}:${c.ports.kafkaClient + id - 1}`);

export const labPaths = (c: LabConfig) => ({
  run: path.join(c.labDir, 'run'),
  logs: path.join(c.labDir, 'logs'),
  data: path.join(c.labDir, 'data'),
  conf: path.join(c.labDir, 'conf'),
  bin: path.join(c.labDir, 'bin'),
  kafkaLibs: path.join(c.labDir, 'kafka', c.kafkaVersion, 'libs'),
});
