import type { LabConfig } from '../lib/config';
import { runtimeDriver } from '../runtime/driver';
import { infraComponents, healToxics } from '../runtime/stack';
import { serviceStatus } from '../runtime/services';

export interface HealResult {
  toxicsRemoved: boolean;
  resumed: string[];
  failpointsDisarmed: string[];
}

/**
 * The last-resort rollback: remove every toxic and re-enable every proxy, SIGCONT every lab process (a paused
 * broker), disarm every failpoint of running services. Safe to run at any time, and after a killed CLI.
 */
export async function heal(c: LabConfig): Promise<HealResult> {
  const toxicsRemoved = await healToxics(c);
  const resumed = await runtimeDriver(c).resumeAll(infraComponents(c).map((x) => x.name));
  const failpointsDisarmed: string[] = [];
  for (const s of await serviceStatus(c)) {
    if (!s.running || !s.port) continue;
    // Best effort: a service that died between the status read and this call has no failpoint armed any more
    // (they live in its memory); it is simply not listed as disarmed.
    const res = await fetch(`http://${c.host}:${s.port}/failpoints`, {
      method: 'DELETE',
      signal: AbortSignal.timeout(2000),
    }).catch(() => undefined);
    if (res?.ok) failpointsDisarmed.push(s.service);
  }
  return { toxicsRemoved, resumed, failpointsDisarmed };
}
