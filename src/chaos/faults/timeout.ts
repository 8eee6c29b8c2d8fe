import { z } from 'zod';
import { toxicKind } from './toxic';

export const timeout = toxicKind({
  type: 'timeout',
  summary: 'stops all data; closes the connection after timeoutMs (0: holds it open until removed)',
  attributes: { timeoutMs: z.number().int().min(0).default(0) },
  toToxiproxy: (f) => ({ timeout: f.timeoutMs }),
});
