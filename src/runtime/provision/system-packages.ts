import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { MissingBinaryError, ProvisionError } from '../../lib/errors';
import type { Progress } from '../progress';

/** Debian packages the embedded runtime needs, keyed by the binary that proves each is installed. */
export const SYSTEM_BINARIES: Record<string, string> = {
  '/usr/sbin/mariadbd': 'mariadb-server',
  '/usr/bin/mariadb-install-db': 'mariadb-server',
  '/usr/bin/redis-server': 'redis-server',
  '/usr/bin/prometheus': 'prometheus',
  '/usr/bin/promtool': 'prometheus',
  '/usr/bin/prometheus-mysqld-exporter': 'prometheus-mysqld-exporter',
  '/usr/bin/prometheus-redis-exporter': 'prometheus-redis-exporter',
  '/usr/bin/kcat': 'kcat',
};

export const TOOLCHAIN = [
  { bin: 'java', fix: 'install a JDK 17+ (Debian: apt-get install -y openjdk-17-jre-headless)' },
  { bin: 'mvn', fix: 'install Maven (Debian: apt-get install -y maven)' },
  { bin: 'go', fix: 'install Go 1.23+ (https://go.dev/dl or Debian golang-go from backports)' },
];

export function which(bin: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Java, Maven and Go are prerequisites we never install ourselves. */
export function checkToolchain(): void {
  for (const t of TOOLCHAIN) if (!which(t.bin)) throw new MissingBinaryError(t.bin, t.fix);
  const v = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr;
  const major = Number(/version "(\d+)/.exec(v)?.[1] ?? 0);
  if (major < 17) throw new MissingBinaryError('java 17+', `Kafka 4 brokers need Java 17 or newer; found: ${v.split('\n')[0]}`);
}

/** Installs missing Debian packages when root; otherwise stops with the exact command to run. */
export function ensureSystemPackages(isRoot: boolean, progress: Progress): void {
  const missing = [...new Set(Object.entries(SYSTEM_BINARIES).filter(([bin]) => !fs.existsSync(bin)).map(([, pkg]) => pkg))];
  if (!missing.length) return;
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!isRoot) throw new MissingBinaryError(missing.join(', '), `run as root: sudo sh -c '${cmd}'`);
  progress.step(`installing Debian packages: ${missing.join(' ')}`);
  try {
    execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  } catch (e) {
    throw new ProvisionError(`apt-get failed (${(e as Error).message.split('\n')[0]}); run by hand: ${cmd}`, { cause: e });
  }
}
