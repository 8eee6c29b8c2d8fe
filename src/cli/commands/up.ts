import { Flags } from '@oclif/core';
import { LabCommand } from '../base';
import { ensureUiProcess } from '../../ui/process';
import { stderrProgress } from '../../runtime/progress';
import { REDIS_TOPOLOGIES, up } from '../../runtime/stack';

export default class Up extends LabCommand {
  static override summary =
    'Provision and start the lab stack: 3 Kafka brokers, MariaDB, Redis, Toxiproxy, Prometheus, exporters.';
  static override description =
    'Idempotent: installs missing Debian packages (as root), resolves Kafka jars from Maven Central, builds Toxiproxy, ' +
    'then starts each component that is not already running and returns only when all are healthy.';
  static override examples = [
    '<%= config.bin %> up',
    '<%= config.bin %> up --json',
    '<%= config.bin %> up --ui',
    '<%= config.bin %> up --redis cluster',
  ];
  static override flags = {
    redis: Flags.string({
      description:
        'Redis topology: `cluster` also starts a 6-node Redis Cluster (3 masters + 3 replicas), each node behind its own Toxiproxy proxy',
      options: [...REDIS_TOPOLOGIES],
      default: 'standalone',
    }),
    ui: Flags.boolean({
      description:
        'also start the lab UI (http://127.0.0.1:18099) as a supervised process; `chaos down` stops it',
    }),
  };

  async run() {
    const { flags } = await this.parse(Up);
    const t0 = Date.now();
    const res = await up(this.lab, stderrProgress(), {
      redis: flags.redis as (typeof REDIS_TOPOLOGIES)[number],
    });
    const ui = flags.ui ? await ensureUiProcess(this.lab) : undefined;
    if (!this.jsonEnabled()) {
      this.log(
        res.started.length
          ? `lab is up in ${res.seconds.toFixed(1)} s (started ${res.started.length}: ${res.started.join(', ')}` +
              (res.alreadyRunning.length ? `; already running: ${res.alreadyRunning.length})` : ')')
          : `lab was already up (${res.alreadyRunning.length} components healthy, checked in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
    if (ui && !this.jsonEnabled()) this.log(`lab UI on ${ui.url}`);
    return ui ? { ...res, ui: ui.url } : res;
  }
}
