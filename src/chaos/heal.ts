import type { LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';
import { runtimeDriver, type ResumeAllResult } from '../runtime/driver';
import { failpointsAt } from '../runtime/run-port';
import { serviceStatus } from '../runtime/services';
import { healToxics, infraComponents, supervisorFor } from '../runtime/stack';

/** One thing heal could not undo: which step, why, and what to do about it. */
export interface HealFailure {
  step: string;
  error: string;
  fix: string;
}

export interface HealResult {
  toxicsRemoved: boolean;
  resumed: string[];
  failpointsDisarmed: string[];
  /** empty when everything was undone; heal throws a HealError carrying this result otherwise */
  failed: HealFailure[];
}

/** Heal ran every step, and some could not undo their part: the message lists each with its fix. */
export class HealError extends LabError {
  constructor(readonly result: HealResult) {
    super(
      `heal could not undo everything:\n${result.failed.map((f) => `  - ${f.step}: ${f.error}; fix: ${f.fix}`).join('\n')}`,
    );
  }
}

/** The step name of the toxics' reset, as `failed` lists it. */
export const TOXICS_STEP = 'remove every toxic';

/** What heal acts on, injected so its record of failures is tested without a stack. */
export interface HealDeps {
  resumeAll(): Promise<ResumeAllResult>;
  /** true: toxics removed; false: Toxiproxy not running (no toxics can be left); throws otherwise */
  removeToxics(): Promise<boolean>;
  runningServices(): Promise<{ service: string; port: number }[]>;
  /** DELETE /failpoints on the service; throws unless it confirmed */
  disarm(service: { service: string; port: number }): Promise<void>;
  isAlive(service: string): boolean;
}

export function liveHealDeps(c: LabConfig): HealDeps {
  return {
    resumeAll: () => runtimeDriver(c).resumeAll(infraComponents(c).map((x) => x.name)),
    removeToxics: () => healToxics(c),
    runningServices: async () =>
      (await serviceStatus(c)).flatMap((s) =>
        s.running && s.port ? [{ service: s.service, port: s.port }] : [],
      ),
    disarm: (s) => failpointsAt(`http://${c.host}:${s.port}`, s.service).disarmAll(),
    isAlive: (service) => supervisorFor(c).isAlive(service),
  };
}

/**
 * The last-resort rollback: SIGCONT every lab process (a paused broker, a paused Toxiproxy), remove every toxic
 * and re-enable every proxy, disarm every failpoint of running services. Every step runs even when one fails;
 * what could not be undone is recorded and thrown as a HealError, so neither `chaos heal` nor a run's rollback
 * reads it as done. Safe to run at any time, and after a killed CLI.
 */
export async function heal(c: LabConfig, deps: HealDeps = liveHealDeps(c)): Promise<HealResult> {
  const failed: HealFailure[] = [];
  const why = (e: unknown) => (e as Error).message;
  // Resume first: a paused Toxiproxy or service would not answer the calls that follow.
  const { resumed, failed: stillPaused } = await deps.resumeAll();
  for (const f of stillPaused)
    failed.push({
      step: `resume ${f.component}`,
      error: f.error.message,
      fix: `\`chaos status\` shows its pid: \`kill -CONT <pid>\`, or \`chaos down && chaos up\``,
    });
  let toxicsRemoved = false;
  try {
    toxicsRemoved = await deps.removeToxics();
  } catch (e) {
    failed.push({
      step: TOXICS_STEP,
      error: why(e),
      fix: '`chaos status` (is Toxiproxy up?), then `chaos heal` again',
    });
  }
  const failpointsDisarmed = await disarmAll(deps, failed);
  const result = { toxicsRemoved, resumed, failpointsDisarmed, failed };
  if (failed.length) throw new HealError(result);
  return result;
}

async function disarmAll(deps: HealDeps, failed: HealFailure[]): Promise<string[]> {
  const disarmed: string[] = [];
  for (const s of await deps.runningServices()) {
    try {
      await deps.disarm(s);
      disarmed.push(s.service);
    } catch (e) {
      // Failpoints live in the process: one that died since the status read has none left armed.
      if (!deps.isAlive(s.service)) continue;
      failed.push({
        step: `disarm the failpoints of ${s.service}`,
        error: (e as Error).message,
        fix: `\`chaos services restart ${s.service}\` (a restart starts it with none armed)`,
      });
    }
  }
  return disarmed;
}
