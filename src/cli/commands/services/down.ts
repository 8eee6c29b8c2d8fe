import { LabCommand } from '../../base';
import { servicesDown } from '../../../runtime/services-up';

export default class ServicesDown extends LabCommand {
  static override summary =
    'Stop every lab service (graceful SIGTERM, by pidfile); Kafka, MariaDB and Redis keep running.';
  static override examples = ['<%= config.bin %> services down'];

  async run() {
    const stopped = await servicesDown(this.lab);
    if (!this.jsonEnabled())
      this.log(stopped.length ? `stopped ${stopped.join(', ')}` : 'no service was running');
    return { stopped };
  }
}
