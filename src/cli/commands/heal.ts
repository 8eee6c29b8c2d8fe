import { LabCommand } from '../base';
import { heal, HealError, TOXICS_STEP, type HealResult } from '../../chaos/heal';

export default class Heal extends LabCommand {
  static override summary =
    'Undo every fault: remove all toxics, re-enable proxies, resume paused processes, disarm failpoints. Exits 1, naming each leftover and its fix, when something could not be undone.';
  static override examples = ['<%= config.bin %> heal'];

  async run(): Promise<HealResult> {
    let r: HealResult;
    try {
      r = await heal(this.lab);
    } catch (e) {
      if (!(e instanceof HealError)) throw e;
      // What was undone is still worth reading (--json: the result with its `failed`), then a non-zero exit.
      if (!this.jsonEnabled()) {
        this.log(summary(e.result));
        this.logToStderr(`error: ${e.message}`);
      }
      process.exitCode = e.exitCode;
      return e.result;
    }
    if (!this.jsonEnabled()) this.log(summary(r));
    return r;
  }
}

function summary(r: HealResult): string {
  const toxics = r.toxicsRemoved
    ? 'removed, proxies enabled'
    : r.failed.some((f) => f.step === TOXICS_STEP)
      ? 'NOT removed (see below)'
      : 'n/a (toxiproxy not running)';
  return `toxics ${toxics}; resumed ${r.resumed.length} processes; failpoints disarmed on ${r.failpointsDisarmed.join(', ') || 'no running service'}`;
}
