import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from '../../lib/errors';
import type { Progress } from '../progress';

/**
 * Resolves the Kafka broker jars (and the JMX exporter agent) from Maven Central with the pom in
 * runtime/kafka, into .lab/kafka/<version>/libs. Idempotent: a marker file records a finished copy.
 */
export function ensureKafkaDist(root: string, libsDir: string, version: string, progress: Progress): void {
  const marker = path.join(libsDir, '.complete');
  if (fs.existsSync(marker)) return;
  const t0 = Date.now();
  progress.step(`resolving Apache Kafka ${version} jars from Maven Central`);
  fs.rmSync(libsDir, { recursive: true, force: true });
  fs.mkdirSync(libsDir, { recursive: true });
  try {
    execFileSync(
      'mvn',
      ['-q', '-B', '-f', path.join(root, 'runtime/kafka/pom.xml'), `-Dkafka.version=${version}`,
        'dependency:copy-dependencies', `-DoutputDirectory=${libsDir}`],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 540_000 },
    );
  } catch (e) {
    const out = String((e as { stdout?: Buffer }).stdout ?? '') + String((e as { stderr?: Buffer }).stderr ?? '');
    throw new ProvisionError(
      `Maven could not resolve org.apache.kafka:kafka_2.13:${version}: ${out.split('\n').filter((l) => l.includes('ERROR')).slice(0, 3).join(' ') || (e as Error).message}` +
        `\nfix: check Maven Central is reachable (mvn -v; ~/.m2/settings.xml mirrors) or set LAB_KAFKA_VERSION to a served 4.x/3.9.x version`,
      { cause: e },
    );
  }
  fs.writeFileSync(marker, new Date().toISOString());
  progress.done(`Kafka ${version}: ${fs.readdirSync(libsDir).length - 1} jars`, t0);
}

export function jmxAgentJar(libsDir: string): string {
  const jar = fs.readdirSync(libsDir).find((f) => f.startsWith('jmx_prometheus_javaagent-'));
  if (!jar) throw new ProvisionError(`jmx_prometheus_javaagent jar missing in ${libsDir}: delete that directory and run \`chaos up\` again`);
  return path.join(libsDir, jar);
}
