import type { LabConfig } from '../../lib/config';
import { LabError } from '../../lib/errors';
import { silentProgress } from '../progress';
import { supervisorFor, up } from '../stack';
import type { ProcessAction, ResumeAllResult, RuntimeDriver } from './types';

const SIGNAL: Record<ProcessAction, NodeJS.Signals> = { kill: 'SIGKILL', pause: 'SIGSTOP', resume: 'SIGCONT' };

/** kill -9 / SIGSTOP / SIGCONT of a lab process by its pidfile (never by name). */
export function signalComponent(c: LabConfig, component: string, action: ProcessAction): void {
  const ok = supervisorFor(c).signal(component, SIGNAL[action]);
  if (!ok) throw new LabError(`${component} is not running (no live pidfile in .lab/run): nothing to ${action}; \`chaos status\` shows what runs`);
}

export function localDriver(c: LabConfig): RuntimeDriver {
  return {
    name: 'local',
    kill: async (comp) => signalComponent(c, comp, 'kill'),
    pause: async (comp) => signalComponent(c, comp, 'pause'),
    resume: async (comp) => signalComponent(c, comp, 'resume'),
    // `up` is idempotent: it starts exactly what is not running and waits until the stack is healthy.
    revive: async () => void (await up(c, silentProgress)),
    resumeAll: async (comps) => resumeAllLocal(c, comps),
  };
}

/** SIGCONT to every running component (one not running has nothing to resume); a refused signal is recorded. */
function resumeAllLocal(c: LabConfig, comps: string[]): ResumeAllResult {
  const out: ResumeAllResult = { resumed: [], failed: [] };
  for (const comp of comps) {
    try {
      if (supervisorFor(c).signal(comp, 'SIGCONT')) out.resumed.push(comp);
    } catch (e) {
      out.failed.push({ component: comp, error: e as Error });
    }
  }
  return out;
}
