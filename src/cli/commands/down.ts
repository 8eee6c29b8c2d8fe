import { Flags } from '@oclif/core';
import { LabCommand } from '../base';
import { down } from '../../runtime/stack';

export default class Down extends LabCommand {
  static override summary =
    'Remove all toxics and stop every process the lab started (by pidfile), services included.';
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --purge'];
  static override flags = {
    purge: Flags.boolean({
      description:
        'also wipe data, logs and generated config under .lab/ (keeps downloaded jars and built binaries)',
    }),
  };

  async run() {
    const { flags } = await this.parse(Down);
    const res = await down(this.lab, { purge: flags.purge });
    if (!this.jsonEnabled())
      this.log(
        `stopped ${res.stopped.length}${res.stopped.length ? `: ${res.stopped.join(', ')}` : ''}; toxics ${res.toxicsRemoved ? 'removed' : 'n/a (toxiproxy was not running)'}${res.purged ? '; data purged' : ''}`,
      );
    return res;
  }
}
