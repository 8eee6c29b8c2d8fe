import { LabCommand, table } from '../base';
import { clusterNodeStates } from '../../runtime/redis-cluster-up';
import { status, supervisorFor } from '../../runtime/stack';

export default class Status extends LabCommand {
  static override summary = 'Show each lab component: pid, ports, running, healthy, memory.';
  static override description =
    "With the Redis Cluster up, also each node's role, slots, replication offset and link to its master (in --json: a `redisCluster` object on each node's row).";
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];

  async run() {
    const rows = await status(this.lab);
    const withCluster = rows.some((r) => r.component.startsWith('redis-cluster-') && r.running);
    const nodes = withCluster ? await clusterNodeStates(this.lab, supervisorFor(this.lab)) : [];
    if (this.jsonEnabled())
      return rows.map((r) => {
        const node = nodes.find((n) => n.name === r.component);
        if (!node) return r;
        const { name: _name, running: _running, ...redisCluster } = node;
        return { ...r, redisCluster };
      });
    this.log(table(rows.map((r) => ({ ...r, rssMiB: r.rssMiB ?? null }))));
    const total = rows.reduce((a, r) => a + (r.rssMiB ?? 0), 0);
    this.log(
      `\n${rows.filter((r) => r.healthy).length}/${rows.length} healthy; total RSS ${total} MiB`,
    );
    if (nodes.length) {
      this.log('\nRedis Cluster (each node as it answers at its own port):');
      this.log(
        table(
          nodes.map((n) => ({
            node: n.name,
            proxy: n.proxyPort,
            role: n.role ?? (n.running ? 'not answering' : 'down'),
            state: n.state ?? '',
            slots: n.slots ?? '',
            replOffset: n.replOffset ?? '',
            masterLink: n.masterLinkUp === undefined ? '' : n.masterLinkUp ? 'up' : 'down',
          })),
        ),
      );
    }
    return rows;
  }
}
