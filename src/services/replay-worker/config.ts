import { z } from 'zod';
import { parseServiceEnv, topicSchema } from '../common/env';

export function loadReplayConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseServiceEnv('replay-worker', { LAB_TOPIC: topicSchema, REPLAY_MAX_RATE: z.coerce.number().min(0).max(100_000).default(100) }, env);
  return { lab: c.lab, topic: c.LAB_TOPIC, maxRate: c.REPLAY_MAX_RATE, port: c.lab.ports.replayWorker };
}
export type ReplayConfig = ReturnType<typeof loadReplayConfig>;
