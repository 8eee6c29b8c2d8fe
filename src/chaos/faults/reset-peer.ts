import { z } from 'zod';
import { toxicKind } from './toxic';

export const resetPeer = toxicKind({
  type: 'reset_peer',
  summary: 'resets the connection (TCP RST) after timeoutMs (0: at once)',
  attributes: { timeoutMs: z.number().int().min(0).default(0) },
  toToxiproxy: (f) => ({ timeout: f.timeoutMs }),
});
