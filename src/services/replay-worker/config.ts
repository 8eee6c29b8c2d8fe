import { z } from 'zod';
import { parseServiceEnv, topicSchema } from '../common/env';

/** replay-worker's settings: env variable → its schema. */
const REPLAY_ENV = {
  LAB_TOPIC: topicSchema,
  REPLAY_MAX_RATE: z.coerce.number().min(0).max(100_000).default(100),
};
/** The variables replay-worker reads (an experiment's `services.replay-worker.env` may set only these). */
export const REPLAY_SETTINGS = Object.keys(REPLAY_ENV) as (keyof typeof REPLAY_ENV)[];

export function loadReplayConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseServiceEnv('replay-worker', REPLAY_ENV, env);
  return {
    lab: c.lab,
    topic: c.LAB_TOPIC,
    maxRate: c.REPLAY_MAX_RATE,
    port: c.lab.ports.replayWorker,
  };
}
export type ReplayConfig = ReturnType<typeof loadReplayConfig>;
