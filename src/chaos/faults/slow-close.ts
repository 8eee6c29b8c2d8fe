import { z } from 'zod';
import { toxicKind } from './toxic';

export const slowClose = toxicKind({
  type: 'slow_close',
  summary: 'delays the TCP close by delayMs',
  attributes: { delayMs: z.number().int().min(0) },
  toToxiproxy: (f) => ({ delay: f.delayMs }),
});
