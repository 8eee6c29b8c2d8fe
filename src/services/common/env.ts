import { z } from 'zod';
import { loadConfig, type LabConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { DEFAULT_TOPIC } from '../../lib/events';

/** Topic names Kafka accepts; checked here so a typo fails at start, not on the first produce. */
export const topicSchema = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,200}$/, 'letters, digits, . _ - only')
  .default(DEFAULT_TOPIC);

/** "true"/"1"/"yes" → true. z.coerce.boolean would read "false" as true. */
export const boolEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .default('false')
  .transform((v) => ['true', '1', 'yes'].includes(v));

/**
 * Parses a service's env once at start with its zod schema (keys are env var names). Every problem is reported
 * with the variable to fix and, for enums, the valid values.
 */
export function parseServiceEnv<S extends z.ZodRawShape>(
  service: string,
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): { lab: LabConfig } & z.infer<z.ZodObject<S>> {
  const lab = loadConfig(env);
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const key = i.path.join('.');
      const valid = i.code === 'invalid_enum_value' ? ` (valid: ${i.options.join(', ')})` : '';
      return `${key}=${String(env[key])} is invalid for ${service}: ${i.message}${valid}`;
    });
    throw new ConfigError(problems.join('\n'));
  }
  return { lab, ...parsed.data } as { lab: LabConfig } & z.infer<z.ZodObject<S>>;
}
