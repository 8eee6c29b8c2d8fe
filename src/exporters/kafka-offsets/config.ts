import { z } from 'zod';
import { loadConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';

/**
 * What the exporter reads, parsed once at start. The topic set is bounded: only the lab's own topics (lab.*), at
 * most LAB_KAFKA_OFFSETS_MAX_TOPICS of them (in name order; the rest are counted as dropped), so a box full of test
 * topics cannot turn every scrape into hundreds of requests.
 */
const Env = z.object({
  LAB_KAFKA_OFFSETS_TOPIC_PATTERN: z
    .string()
    .default('^lab\\.')
    .refine((s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false; // reported by zod as "not a regular expression"
      }
    }, 'not a regular expression'),
  LAB_KAFKA_OFFSETS_MAX_TOPICS: z.coerce.number().int().min(1).max(500).default(40),
  /** below the Prometheus scrape timeout of this job (1800 ms), so a slow read answers "kafka_up 0" rather than nothing */
  LAB_KAFKA_OFFSETS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(1500),
});

export function loadExporterConfig(env: NodeJS.ProcessEnv = process.env) {
  const lab = loadConfig(env);
  const parsed = Env.safeParse(env);
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues
        .map(
          (i) =>
            `${i.path.join('.')}=${String(env[String(i.path[0])])} is invalid for kafka-offsets-exporter: ${i.message}`,
        )
        .join('\n'),
    );
  const e = parsed.data;
  return {
    lab,
    port: lab.ports.kafkaOffsetsExporter,
    topicPattern: new RegExp(e.LAB_KAFKA_OFFSETS_TOPIC_PATTERN),
    maxTopics: e.LAB_KAFKA_OFFSETS_MAX_TOPICS,
    timeoutMs: e.LAB_KAFKA_OFFSETS_TIMEOUT_MS,
  };
}
export type ExporterConfig = ReturnType<typeof loadExporterConfig>;
