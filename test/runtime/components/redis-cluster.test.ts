import { expect } from 'chai';
import { loadConfig } from '../../../src/lib/config';
import { clusterNodeArgs, clusterNodes } from '../../../src/runtime/components/redis-cluster';
import { clusterHealthy, parseClusterInfo, type ClusterView } from '../../../src/runtime/redis-cluster-up';

describe('the Redis Cluster component', () => {
  const c = loadConfig({ LAB_PORT_OFFSET: '1000' });

  it('gives each of the six nodes its own proxy, client and bus port, all moved by LAB_PORT_OFFSET', () => {
    const nodes = clusterNodes(c);
    expect(nodes.map((n) => n.proxyPort)).to.deep.equal([18000, 18001, 18002, 18003, 18004, 18005]);
    const all = nodes.flatMap((n) => [n.proxyPort, n.nodePort, n.busPort]);
    expect(new Set(all).size).to.equal(18);
  });

  it('binds every node to 127.0.0.1 and announces its proxy for clients and its own bus port for gossip', () => {
    const [n] = clusterNodes(c);
    const args = clusterNodeArgs(c, n);
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(value('--bind')).to.equal('127.0.0.1');
    expect(value('--cluster-enabled')).to.equal('yes');
    expect(value('--cluster-announce-ip')).to.equal('127.0.0.1');
    expect(value('--cluster-announce-port')).to.equal(String(n.proxyPort));
    expect(value('--cluster-announce-bus-port')).to.equal(String(n.busPort));
    expect(value('--cluster-port')).to.equal(String(n.busPort));
  });

  it('reports a port collision of the cluster ranges with the variable to change', () => {
    expect(() => loadConfig({ LAB_REDIS_CLUSTER_NODE_PORT: '17003' })).to.throw(/LAB_REDIS_CLUSTER_NODE_PORT and LAB_REDIS_CLUSTER_PROXY_PORT both use 17003|LAB_REDIS_CLUSTER_PROXY_PORT and LAB_REDIS_CLUSTER_NODE_PORT both use 17003/);
  });

  it('reads CLUSTER INFO into its fields', () => {
    const info = parseClusterInfo('cluster_state:ok\r\ncluster_slots_ok:16384\r\ncluster_known_nodes:6\r\n');
    expect(info).to.include({ cluster_state: 'ok', cluster_slots_ok: '16384', cluster_known_nodes: '6' });
  });

  describe('health', () => {
    const node = (role: string, over: Partial<ClusterView['nodes'][number]> = {}) => ({
      name: 'n', state: 'ok', slotsOk: 16384, knownNodes: 6, role, linkUp: role === 'slave', rangesReplicated: true, ...over,
    });
    const whole = (): ClusterView => ({ nodes: [node('master'), node('master'), node('master'), node('slave'), node('slave'), node('slave')] });

    it('is healthy with 3 masters, 3 linked replicas and every slot served on every node', () => {
      expect(clusterHealthy(whole())).to.equal(true);
    });

    it('is not healthy while one node still misses slots, a replica link is down, or gossip has not named every replica', () => {
      for (const broken of [{ slotsOk: 10923 }, { state: 'fail' }, { knownNodes: 5 }, { rangesReplicated: false }]) {
        const v = whole();
        v.nodes[0] = node('master', broken);
        expect(clusterHealthy(v), JSON.stringify(broken)).to.equal(false);
      }
      const v = whole();
      v.nodes[5] = node('slave', { linkUp: false });
      expect(clusterHealthy(v)).to.equal(false);
    });
  });
});
