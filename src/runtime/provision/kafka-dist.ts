import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProvisionError } from '../../lib/errors';
import type { Progress } from '../progress';
import { runTracked, TrackedCommandError, type TrackedCommand } from './tracked-command';

/** Pinned, so `collect` exists (3.x) and the plugin's own download happens once, in the first step. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

/** A jar in Maven's dependency list or tree: `group:artifact:jar[:classifier]:version:scope`, indented or `+- `. */
export interface TreeJar {
  group: string;
  artifact: string;
  classifier?: string;
  version: string;
}

/** The jars of `mvn dependency:collect` (or `dependency:tree`) output; the project itself and non-jar types left out. */
export function jarsOfTree(tree: string): TreeJar[] {
  const jars = new Map<string, TreeJar>();
  for (const line of tree.split('\n')) {
    const coords = /^[\s|+\\-]*([^\s]+)/.exec(line)?.[1]?.split(':') ?? [];
    if (!/^[|+\\ ]/.test(line) || coords[2] !== 'jar' || coords.length < 5) continue;
    const [group, artifact, , ...rest] = coords;
    const jar = rest.length >= 3 ? { group, artifact, classifier: rest[0], version: rest[1] } : { group, artifact, version: rest[0] };
    jars.set(coords.slice(0, -1).join(':'), jar);
  }
  return [...jars.values()];
}

/** Where Maven keeps a jar in a local repository (~/.m2/repository). */
export const localJarPath = (repo: string, j: TreeJar) =>
  path.join(repo, ...j.group.split('.'), j.artifact, j.version, `${j.artifact}-${j.version}${j.classifier ? `-${j.classifier}` : ''}.jar`);

/** Maven's local repository: `-Dmaven.repo.local` in MAVEN_OPTS, else ~/.m2/repository (only the counts shown use it). */
export const localRepository = (mavenOpts = '') => /-Dmaven\.repo\.local=(\S+)/.exec(mavenOpts)?.[1] ?? path.join(os.homedir(), '.m2/repository');

const mavenFailure = (version: string, out: string, e: unknown) =>
  new ProvisionError(
    `Maven could not resolve org.apache.kafka:kafka_2.13:${version}: ${out.split('\n').filter((l) => l.includes('ERROR')).slice(0, 3).join(' ') || (e as Error).message}` +
      `\nfix: check Maven Central is reachable (mvn -v; ~/.m2/settings.xml mirrors) or set LAB_KAFKA_VERSION to a served 4.x/3.9.x version`,
    { cause: e },
  );

/**
 * Resolves the Kafka broker jars (and the JMX exporter agent) from Maven Central with the pom in
 * runtime/kafka, into .lab/kafka/<version>/libs. Idempotent: a marker file records a finished copy.
 * The dependency graph (POMs only) comes first, so the download that follows shows "n of N jars" with an ETA.
 */
export async function ensureKafkaDist(root: string, libsDir: string, version: string, progress: Progress): Promise<void> {
  const marker = path.join(libsDir, '.complete');
  if (fs.existsSync(marker)) return;
  const t0 = Date.now();
  progress.step(`resolving Apache Kafka ${version}'s dependencies from Maven Central`);
  fs.rmSync(libsDir, { recursive: true, force: true });
  fs.mkdirSync(libsDir, { recursive: true });
  const pom = path.join(root, 'runtime/kafka/pom.xml');
  const listFile = path.join(libsDir, '..', 'dependencies.txt');
  const mvn = (goal: string, args: string[], label: string, unit: string, onLine: TrackedCommand['onLine'], total?: number, from?: number) =>
    runTracked({ cmd: 'mvn', args: ['-B', '-Dstyle.color=never', '-f', pom, `-Dkafka.version=${version}`, `${DEPENDENCY_PLUGIN}:${goal}`, ...args], timeoutMs: 540_000, label, unit, onLine, total, from }, progress);
  try {
    // `collect` reads POMs only: the jar count is known before any jar is downloaded.
    await mvn('collect', [`-DoutputFile=${listFile}`], 'Kafka dependency graph', 'POMs read', (l, c) => {
      if (/Downloaded from .*\.pom \(/.test(l)) c.done++;
    });
    const jars = jarsOfTree(fs.readFileSync(listFile, 'utf8'));
    const repo = localRepository(process.env.MAVEN_OPTS);
    const cached = jars.filter((j) => fs.existsSync(localJarPath(repo, j))).length;
    const wanted = new Set(jars.map((j) => path.basename(localJarPath(repo, j))));
    progress.step(`Kafka ${version}: ${jars.length} jars, ${cached} already in ${repo}`);
    await mvn('copy-dependencies', [`-DoutputDirectory=${libsDir}`], 'Kafka jars', 'jars', (l, c) => {
      const jar = /Downloaded from \S+: \S+\/([^/\s]+\.jar) \(/.exec(l)?.[1];
      if (jar && wanted.has(jar)) c.done++; // the plugin's own jars are not Kafka's
    }, jars.length, cached);
  } catch (e) {
    throw mavenFailure(version, e instanceof TrackedCommandError ? e.output : '', e);
  }
  fs.writeFileSync(marker, new Date().toISOString());
  progress.done(`Kafka ${version}: ${fs.readdirSync(libsDir).length - 1} jars`, t0);
}

export function jmxAgentJar(libsDir: string): string {
  const jar = fs.readdirSync(libsDir).find((f) => f.startsWith('jmx_prometheus_javaagent-'));
  if (!jar) throw new ProvisionError(`jmx_prometheus_javaagent jar missing in ${libsDir}: delete that directory and run \`chaos up\` again`);
  return path.join(libsDir, jar);
}
