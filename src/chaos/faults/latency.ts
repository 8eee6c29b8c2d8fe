import { z } from 'zod';
import { toxicKind } from './toxic';

export const latency = toxicKind({
  type: 'latency',
  summary: 'delays every chunk of data by latencyMs ± jitterMs',
  attributes: { latencyMs: z.number().int().min(0), jitterMs: z.number().int().min(0).default(0) },
  toToxiproxy: (f) => ({ latency: f.latencyMs, jitter: f.jitterMs }),
});
