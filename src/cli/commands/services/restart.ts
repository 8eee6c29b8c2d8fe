import { Args } from '@oclif/core';
import { LabCommand } from '../../base';
import { serviceDef, SERVICE_NAMES, startService } from '../../../runtime/services';

export default class ServicesRestart extends LabCommand {
  static override summary = 'Restart one service with its default modes (graceful stop, start, wait for /health).';
  static override examples = ['<%= config.bin %> services restart consumer-service'];
  static override args = { name: Args.string({ required: true, description: `one of ${SERVICE_NAMES.join(', ')}` }) };

  async run() {
    const { args } = await this.parse(ServicesRestart);
    serviceDef(args.name); // unknown name → error listing the valid ones
    const s = await startService(this.lab, args.name);
    if (!this.jsonEnabled()) this.log(`${s.name} restarted: pid ${s.pid}, ${s.url}`);
    return s;
  }
}
