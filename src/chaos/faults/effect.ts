import type { LabConfig, RuntimeName } from '../../lib/config';
import { LabError } from '../../lib/errors';
import { supervisorFor } from '../../runtime/stack';

/**
 * A fault that could not take effect (a kill of a process that was already dead): the run cannot tell what the
 * fault would have shown, so the engine makes it inconclusive rather than aborted or judged.
 */
export class FaultHadNoEffect extends LabError {}

/** Did a fault reach anything? Asked just before its undo (or at the end of the run when it has none). */
export interface Effect {
  took: boolean;
  /** what was seen, or why it had no effect */
  detail: string;
}

/**
 * Throws FaultHadNoEffect when a process to kill or pause is not running (local runtime: its pidfile): a kill of
 * a dead process shows nothing. The docker runtime answers for itself (its error aborts the run).
 */
export function notRunning(c: LabConfig, runtime: RuntimeName, component: string, action: string) {
  if (runtime === 'local' && !supervisorFor(c).isAlive(component))
    throw new FaultHadNoEffect(
      `${action} ${component}: it was not running, so the fault had nothing to act on; \`chaos status\` shows what runs`,
    );
}
