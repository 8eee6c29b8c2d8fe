import { LabCommand, table } from '../../base';
import { failpointsAt } from '../../../runtime/run-port';
import { failpointOwners, serviceStatus } from '../../../runtime/services';

export default class ServicesFailpoints extends LabCommand {
  static override summary =
    'List every failpoint, the service it lives in, and whether it is armed there now.';
  static override description =
    'Arm one with LAB_FAILPOINTS=name=crash|error|delay[:ms][@N][+] at start, or POST /failpoints/<name> {"action":"crash","after":1} on the running service.';
  static override examples = ['<%= config.bin %> services failpoints'];

  async run() {
    const running = new Map(
      (await serviceStatus(this.lab)).filter((s) => s.healthy).map((s) => [s.service, s.port]),
    );
    const armed = new Map<string, string[]>();
    for (const [svc, port] of running) {
      try {
        for (const a of await failpointsAt(`http://${this.lab.host}:${port}`, svc).armed())
          armed.set(a.name, [...(armed.get(a.name) ?? []), `${svc}:${a.action}@${a.after}`]);
      } catch {
        /* service went away: shown as not armed */
      }
    }
    const rows = failpointOwners().map((f) => ({
      failpoint: f.failpoint,
      services: f.services.join(',') || '(none)',
      armed: armed.get(f.failpoint)?.join(' ') ?? '',
    }));
    if (!this.jsonEnabled()) this.log(table(rows));
    return rows;
  }
}
