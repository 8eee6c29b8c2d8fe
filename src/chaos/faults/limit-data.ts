import { z } from 'zod';
import { toxicKind } from './toxic';

export const limitData = toxicKind({
  type: 'limit_data',
  summary: 'closes the connection once `bytes` bytes have passed',
  attributes: { bytes: z.number().int().min(0) },
  toToxiproxy: (f) => ({ bytes: f.bytes }),
});
