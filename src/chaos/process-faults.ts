import { brokerIds, type LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';
import { supervisorFor } from '../runtime/stack';

/** Process faults, shaped like toxics: a target, an action, and an inverse that the rollback runs. */
export type ProcessAction = 'kill' | 'pause' | 'resume';

const SIGNAL: Record<ProcessAction, NodeJS.Signals> = { kill: 'SIGKILL', pause: 'SIGSTOP', resume: 'SIGCONT' };

/** kill -9 / SIGSTOP / SIGCONT of a lab process by its pidfile (never by name). */
export function signalComponent(c: LabConfig, component: string, action: ProcessAction): void {
  const ok = supervisorFor(c).signal(component, SIGNAL[action]);
  if (!ok) throw new LabError(`${component} is not running (no live pidfile in .lab/run): nothing to ${action}; \`chaos status\` shows what runs`);
}

export function brokerName(c: LabConfig, id: number): string {
  if (!brokerIds(c).includes(id)) throw new LabError(`no broker ${id}; brokers: ${brokerIds(c).join(', ')}`);
  return `kafka-${id}`;
}
