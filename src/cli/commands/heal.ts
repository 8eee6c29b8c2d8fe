import { LabCommand } from '../base';
import { heal } from '../../chaos/heal';

export default class Heal extends LabCommand {
  static override summary =
    'Undo every fault: remove all toxics, re-enable proxies, resume paused processes, disarm failpoints.';
  static override examples = ['<%= config.bin %> heal'];

  async run() {
    const r = await heal(this.lab);
    if (!this.jsonEnabled())
      this.log(
        `toxics ${r.toxicsRemoved ? 'removed, proxies enabled' : 'n/a (toxiproxy not running)'}; resumed ${r.resumed.length} processes; failpoints disarmed on ${r.failpointsDisarmed.join(', ') || 'no running service'}`,
      );
    return r;
  }
}
