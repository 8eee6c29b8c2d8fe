import { LabCommand, table } from '../../base';
import { serviceStatus } from '../../../runtime/services';

export default class ServicesStatus extends LabCommand {
  static override summary =
    'Show each lab service: pid, port, running, healthy (its /health from that pid), modes, memory.';
  static override examples = [
    '<%= config.bin %> services status',
    '<%= config.bin %> services status --json',
  ];

  async run() {
    const rows = await serviceStatus(this.lab);
    if (!this.jsonEnabled()) this.log(table(rows.map((r) => ({ ...r }))));
    return rows;
  }
}
