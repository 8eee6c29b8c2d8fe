import { z } from 'zod';
import { FAILPOINT_NAMES } from '../../lib/failpoints';
import { LabError } from '../../lib/errors';
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

async function failpointCall(url: string, init: RequestInit, what: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  } catch (e) {
    throw new LabError(`${what} failed: ${url} unreachable (${(e as Error).message})`, {
      cause: e,
    });
  }
  if (!res.ok) throw new LabError(`${what} failed: HTTP ${res.status} ${await res.text()}`);
}

/** POST /failpoints/<name> on the service. Also used by the watcher to re-arm after a restart. */
export async function armFailpoint(
  serviceUrl: (service: string) => string,
  f: FailpointFault,
): Promise<void> {
  await failpointCall(
    `${serviceUrl(f.service)}/failpoints/${f.failpoint}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        action: f.action,
        after: f.after,
        delayMs: f.delayMs,
        sticky: f.sticky,
        ...(f.key !== undefined ? { key: f.key } : {}),
      }),
    },
    `arming ${f.failpoint} on ${f.service}`,
  );
}

/**
 * DELETE /failpoints/<name>: throws when a running service did not confirm, so a rollback failure is on the record.
 * A service that does not answer at all is not running: failpoints live in the process, so its died with it
 * (a crash failpoint usually took it down) — nothing is left armed.
 */
export async function disarmFailpoint(
  serviceUrl: (service: string) => string,
  f: Pick<FailpointFault, 'service' | 'failpoint'>,
): Promise<void> {
  const url = `${serviceUrl(f.service)}/failpoints/${f.failpoint}`;
  try {
    await failpointCall(url, { method: 'DELETE' }, `disarming ${f.failpoint} on ${f.service}`);
  } catch (err) {
    // Unreachable (refused, reset, no answer) = no process serving: nothing left armed. An HTTP error still throws.
    if (!/ unreachable \(/.test((err as Error).message)) throw err;
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
    await armFailpoint(env.serviceUrl, f);
    return {
      description: `armed ${f.failpoint} on ${f.service}: ${f.action} on pass ${f.after}${f.key !== undefined ? ` of key ${f.key}` : ''}${f.repeat > 1 ? `, up to ${f.repeat}×` : ''}`,
      rollback: {
        name: `disarm ${f.failpoint} on ${f.service}`,
        run: () => disarmFailpoint(env.serviceUrl, f),
        leftover: `failpoint ${f.failpoint} armed in ${f.service}`,
        fix: `chaos heal (or restart ${f.service})`,
      },
    };
  },
});
