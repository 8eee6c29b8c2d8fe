import { LabCommand } from '../base';
import { heal, HealError, type HealResult } from '../../chaos/heal';

export default class Heal extends LabCommand {
  static override summary =
    'Undo every fault: remove all toxics, re-enable proxies, resume paused processes, disarm failpoints. Exits 1, naming each leftover and its fix, when something could not be undone.';
  static override examples = ['<%= config.bin %> heal'];

  async run() {
    let r: HealResult;
    try {
      r = await heal(this.lab);
    } catch (e) {
      if (!(e instanceof HealError)) throw e;
      // What was undone is still worth reading; then the leftovers, and a non-zero exit.
      if (this.jsonEnabled()) this.logJson(e.result);
      else {
        this.log(summary(e.result));
        this.logToStderr(`error: ${e.message}`);
      }
      this.exit(e.exitCode);
    }
    if (!this.jsonEnabled()) this.log(summary(r));
    return r;
  }
}

const summary = (r: HealResult) =>
  `toxics ${r.toxicsRemoved ? 'removed, proxies enabled' : 'n/a (toxiproxy not running)'}; resumed ${r.resumed.length} processes; failpoints disarmed on ${r.failpointsDisarmed.join(', ') || 'no running service'}`;
