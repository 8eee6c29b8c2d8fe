import { z } from 'zod';
import { FAILPOINT_NAMES } from '../../lib/failpoints';
import { FailpointError, type RunPort } from '../../runtime/run-port';
import { defineFault, faultObject } from './define';
import { LabServiceName } from './service';

const schema = faultObject('failpoint', {
  service: LabServiceName,
  failpoint: z.enum(FAILPOINT_NAMES),
  action: z.enum(['crash', 'error', 'delay']),
  /** fire on the N-th pass (1-based) */
  after: z.number().int().min(1).default(1),
  delayMs: z.number().int().min(0).default(0),
  /** after a crash and restart, arm it again: fires at most `repeat` times in the run */
  repeat: z.number().int().min(1).default(1),
  sticky: z.boolean().default(false),
  /** count only the passes that concern this key (a product id; an outbox batch's aggregate ids) */
  key: z.string().min(1).max(64).optional(),
});
export type FailpointFault = z.infer<typeof schema>;

/**
 * The rollback's disarm: throws when a running service did not confirm, so a rollback failure is on the record.
 * A service that does not answer at all is not running: failpoints live in the process, so its died with it
 * (a crash failpoint usually took it down) — nothing is left armed. That is the one best-effort case.
 */
async function disarmFailpoint(
  port: RunPort,
  f: Pick<FailpointFault, 'service' | 'failpoint'>,
): Promise<void> {
  try {
    await port.failpoints.disarm(f.service, f.failpoint);
  } catch (err) {
    // Unreachable (refused, reset, no answer) = no process serving: nothing left armed. An HTTP error still throws.
    if (!(err instanceof FailpointError && err.reason === 'unreachable')) throw err;
  }
}

export const failpoint = defineFault({
  type: 'failpoint',
  summary:
    'arms a named failpoint in a running service: crash, error or delay on the after-th pass',
  schema,
  // failpointsFired comes from the services' own failpoint reports (the watcher), not from arming one
  facts: [],
  async apply(env, f) {
    await env.port.failpoints.arm(f.service, f.failpoint, f);
    return {
      description: `armed ${f.failpoint} on ${f.service}: ${f.action} on pass ${f.after}${f.key !== undefined ? ` of key ${f.key}` : ''}${f.repeat > 1 ? `, up to ${f.repeat}×` : ''}`,
      rollback: {
        name: `disarm ${f.failpoint} on ${f.service}`,
        run: () => disarmFailpoint(env.port, f),
        leftover: `failpoint ${f.failpoint} armed in ${f.service}`,
        fix: `chaos heal (or restart ${f.service})`,
      },
    };
  },
});
