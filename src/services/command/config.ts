import { z } from 'zod';
import { parseServiceEnv, topicSchema } from '../common/env';

/** outbox: product row + outbox row in one transaction (relay publishes). direct: commit, then produce ourselves. */
export const COMMAND_MODES = ['outbox', 'direct'] as const;
export type CommandMode = (typeof COMMAND_MODES)[number];

/** command-service's settings: env variable → its schema. */
const COMMAND_ENV = {
  COMMAND_MODE: z.enum(COMMAND_MODES).default('outbox'),
  LAB_TOPIC: topicSchema,
};
/** The variables command-service reads (an experiment's `services.command-service.env` may set only these). */
export const COMMAND_SETTINGS = Object.keys(COMMAND_ENV) as (keyof typeof COMMAND_ENV)[];

export function loadCommandConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseServiceEnv('command-service', COMMAND_ENV, env);
  return { lab: c.lab, mode: c.COMMAND_MODE, topic: c.LAB_TOPIC, port: c.lab.ports.commandService };
}
export type CommandConfig = ReturnType<typeof loadCommandConfig>;
