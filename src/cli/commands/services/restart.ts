import { Args } from '@oclif/core';
import { LabCommand } from '../../base';
import { restartService, SERVICE_NAMES } from '../../../runtime/services';

export default class ServicesRestart extends LabCommand {
  static override summary =
    'Restart one service with the modes and env it last ran with (graceful stop, start, wait for /health).';
  static override examples = ['<%= config.bin %> services restart consumer-service'];
  static override args = {
    name: Args.string({ required: true, description: `one of ${SERVICE_NAMES.join(', ')}` }),
  };

  async run() {
    const { args } = await this.parse(ServicesRestart);
    const s = await restartService(this.lab, args.name); // an unknown name fails listing the valid ones
    if (!this.jsonEnabled()) this.log(`${s.name} restarted: pid ${s.pid}, ${s.url}`);
    return s;
  }
}
