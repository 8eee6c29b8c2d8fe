import { LabCommand, table } from '../base';
import { status } from '../../runtime/stack';

export default class Status extends LabCommand {
  static override summary = 'Show each lab component: pid, ports, running, healthy, memory.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];

  async run() {
    const rows = await status(this.lab);
    if (!this.jsonEnabled()) {
      this.log(table(rows.map((r) => ({ ...r, rssMiB: r.rssMiB ?? null }))));
      const total = rows.reduce((a, r) => a + (r.rssMiB ?? 0), 0);
      this.log(
        `\n${rows.filter((r) => r.healthy).length}/${rows.length} healthy; total RSS ${total} MiB`,
      );
    }
    return rows;
  }
}
