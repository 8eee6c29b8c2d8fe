import { z } from 'zod';
import { toxicKind } from './toxic';

export const bandwidth = toxicKind({
  type: 'bandwidth',
  summary: 'limits the connection to rateKBps kilobytes per second',
  attributes: { rateKBps: z.number().int().min(0) },
  toToxiproxy: (f) => ({ rate: f.rateKBps }),
});
