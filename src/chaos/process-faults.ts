import { brokerIds, type LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';

/** Process faults, shaped like toxics: a target, an action, and an inverse that the rollback runs. */
export type { ProcessAction } from '../runtime/driver';
// The local runtime's signal: kept here for callers that signal a lab process directly (tests).
export { signalComponent } from '../runtime/driver/local';

export function brokerName(c: LabConfig, id: number): string {
  if (!brokerIds(c).includes(id))
    throw new LabError(`no broker ${id}; brokers: ${brokerIds(c).join(', ')}`);
  return `kafka-${id}`;
}
