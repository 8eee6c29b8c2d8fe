import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { MissingBinaryError, ProvisionError } from '../../lib/errors';
import type { Progress } from '../progress';
import { runTracked, TrackedCommandError, type TrackedCommand } from './tracked-command';

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
  // ss: the kernel's per-connection byte counts, for whether a toxic's proxy carried traffic
  '/usr/bin/ss': 'iproute2',
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

/**
 * apt's machine-readable status (`-o APT::Status-Fd=1`): `dlstatus:…:percent:…` while downloading and
 * `pmstatus:pkg:percent:…` while unpacking and configuring. The percent (0–100) is the count shown.
 */
export function aptPercent(line: string): number | undefined {
  const m = /^(dlstatus|pmstatus):[^:]*:([\d.]+):/.exec(line);
  if (!m) return undefined;
  // apt reports downloads and installs each as 0–100 %: downloads are the first half of the whole
  return Math.floor(m[1] === 'dlstatus' ? Number(m[2]) / 2 : 50 + Number(m[2]) / 2);
}

/** Installs missing Debian packages when root; otherwise stops with the exact command to run. */
export async function ensureSystemPackages(isRoot: boolean, progress: Progress): Promise<void> {
  const missing = [...new Set(Object.entries(SYSTEM_BINARIES).filter(([bin]) => !fs.existsSync(bin)).map(([, pkg]) => pkg))];
  if (!missing.length) return;
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!isRoot) throw new MissingBinaryError(missing.join(', '), `run as root: sudo sh -c '${cmd}'`);
  const t0 = Date.now();
  progress.step(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[], label: string, onLine: TrackedCommand['onLine'], total?: number) =>
    runTracked({ cmd: 'apt-get', args, env, timeoutMs: 300_000, label, unit: total ? '%' : 'lists fetched', onLine, total }, progress);
  try {
    await apt(['update'], 'apt-get update', (l, c) => {
      if (/^(Get|Hit):/.test(l)) c.done++;
    });
    await apt(['install', '-y', '--no-install-recommends', '-o', 'APT::Status-Fd=1', ...missing], 'Debian packages', (l, c) => {
      c.done = Math.max(c.done, aptPercent(l) ?? 0);
    }, 100);
  } catch (e) {
    const out = e instanceof TrackedCommandError ? e.output.split('\n').filter((l) => /^(E|W):/.test(l)).slice(0, 3).join(' ') : '';
    throw new ProvisionError(`apt-get failed (${(e as Error).message}${out ? `: ${out}` : ''}); run by hand: ${cmd}`, { cause: e });
  }
  progress.done(`Debian packages: ${missing.join(' ')}`, t0);
}
