import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Redis, { type Cluster } from 'ioredis';
import { addToxic, removeToxic } from '../../src/chaos/toxics';
import type { LabConfig } from '../../src/lib/config';
import { labRedisCluster } from '../../src/lib/redis';
import { waitFor } from '../../src/lib/wait';
import { CLUSTER_SLOTS, clusterNodes, type ClusterNode, withNode } from '../../src/runtime/components/redis-cluster';
import { silentProgress } from '../../src/runtime/progress';
import { clusterHealthy, clusterNodeStates, clusterView, downRedisCluster } from '../../src/runtime/redis-cluster-up';
import { supervisorFor, up } from '../../src/runtime/stack';
import { isSameProcess } from '../../src/runtime/supervisor';
import { ensureLab } from '../support/lab';

type SlotRange = [number, number, ...[string, number, string][]];

/**
 * The 6-node cluster, brought up once for the suite (`up --redis cluster`) and stopped after it, so the suites
 * that follow find the standalone stack only.
 */
describe('the Redis Cluster behind Toxiproxy (chaos up --redis cluster)', function () {
  this.timeout(300_000);
  let c: LabConfig;
  let nodes: ClusterNode[];
  let cluster: Cluster;
  const byProxyPort = (port: number) => nodes.find((n) => n.proxyPort === port);
  /** Asks the first node that answers (a killed node does not). */
  const anyNode = async <T>(fn: (r: Redis) => Promise<T>): Promise<T> => {
    let last: unknown;
    for (const n of nodes) {
      try {
        return await withNode(c, n.nodePort, fn);
      } catch (e) {
        last = e;
      }
    }
    throw last;
  };
  /** The slot map as the cluster serves it. */
  const slots = () => anyNode(async (r) => (await r.call('CLUSTER', 'SLOTS')) as SlotRange[]);
  /** The proxy port of the master that owns a key's slot. */
  const ownerOf = async (key: string) => {
    const slot = Number(await anyNode((r) => r.call('CLUSTER', 'KEYSLOT', key)));
    const range = (await slots()).find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return { slot, port: range[2][1] };
  };

  before(async () => {
    c = await ensureLab();
    const t0 = Date.now();
    await up(c, silentProgress, { redis: 'cluster' });
    console.log(`      (cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    nodes = clusterNodes(c);
    cluster = labRedisCluster(c);
  });

  after(async () => {
    cluster?.disconnect();
    for (const n of nodes ?? []) await removeToxic(c, n.proxy, 'slow-redirect-target').catch(() => {});
    const sup = supervisorFor(c);
    const recs = (nodes ?? []).map((n) => sup.read(n.name)).filter((r) => !!r);
    await downRedisCluster(c, sup);
    for (const rec of recs) expect(isSameProcess(rec), `${rec.name} still alive`).to.equal(false);
    for (const n of nodes ?? []) expect(sup.read(n.name), `${n.name} pidfile`).to.equal(undefined);
  });

  it('serves all 16384 slots from 3 masters, each announced at its own proxy, every node bound to 127.0.0.1', async () => {
    const ranges = await slots();
    const covered = ranges.reduce((sum, [from, to]) => sum + (to - from + 1), 0);
    expect(covered).to.equal(CLUSTER_SLOTS);
    const proxyPorts = nodes.map((n) => n.proxyPort);
    const masters = new Set(ranges.map((r) => r[2][1]));
    expect(masters.size).to.equal(3);
    for (const [, , ...addrs] of ranges) {
      expect(addrs, 'a master and its replica per range').to.have.length(2);
      for (const [host, port] of addrs) {
        expect(host).to.equal('127.0.0.1');
        expect(proxyPorts).to.include(port);
      }
    }
    for (const n of nodes) {
      const bind = (await withNode(c, n.nodePort, (r) => r.call('CONFIG', 'GET', 'bind'))) as string[];
      expect(bind[1], n.name).to.equal('127.0.0.1');
    }
    const listening = execFileSync('ss', ['-H', '-ltn'], { encoding: 'utf8' });
    for (const n of nodes)
      for (const port of [n.nodePort, n.busPort])
        expect(listening, `${n.name} :${port}`).to.match(new RegExp(`127\\.0\\.0\\.1:${port}\\s`));
  });

  it('shows each node as `chaos status` and the UI list it: 3 masters serving the 16384 slots, 3 replicas linked', async () => {
    const states = await clusterNodeStates(c, supervisorFor(c));
    expect(states.map((s) => s.name)).to.deep.equal(nodes.map((n) => n.name));
    const masters = states.filter((s) => s.role === 'master');
    expect(masters).to.have.length(3);
    expect(masters.reduce((sum, s) => sum + (s.slots ?? 0), 0)).to.equal(CLUSTER_SLOTS);
    const replicas = states.filter((s) => s.role === 'replica');
    expect(replicas.map((s) => s.masterLinkUp)).to.deep.equal([true, true, true]);
    for (const s of states) expect(s.state, s.name).to.equal('ok');
  });

  it('puts each node\'s role, slots and offset on its row of `chaos status --json`', () => {
    const stdout = execFileSync(process.execPath, ['bin/run.js', 'status', '--json'], { cwd: c.root, timeout: 60_000 }).toString();
    const rows = JSON.parse(stdout) as { component: string; redisCluster?: { role?: string; slots?: number } }[];
    const names = nodes.map((n) => n.name);
    const clusterRows = rows.filter((r) => names.includes(r.component));
    expect(clusterRows.map((r) => r.component)).to.deep.equal(names);
    expect(clusterRows.filter((r) => r.redisCluster?.role === 'master').reduce((sum, r) => sum + (r.redisCluster?.slots ?? 0), 0)).to.equal(
      CLUSTER_SLOTS,
    );
    expect(clusterRows.filter((r) => r.redisCluster?.role === 'replica')).to.have.length(3);
    expect(rows.filter((r) => !names.includes(r.component) && 'redisCluster' in r)).to.deep.equal([]);
  });

  it('answers a key of another master with MOVED naming that master\'s proxy, and the cluster client follows it through that proxy', async () => {
    const key = `test:moved:${randomUUID()}`;
    const owner = await ownerOf(key);
    const other = nodes.find((n) => n.proxyPort !== owner.port)!;
    // A plain client at a node that does not own the slot: the reply is the redirect itself.
    const plain = new Redis({ host: c.host, port: other.proxyPort, maxRetriesPerRequest: 1 });
    try {
      const err = await plain.set(key, 'v').then(
        () => undefined,
        (e: Error) => e,
      );
      // A replica of the owner would redirect too; either way the redirect must name the owner's proxy.
      expect(err?.message).to.equal(`MOVED ${owner.slot} 127.0.0.1:${owner.port}`);
    } finally {
      plain.disconnect();
    }
    // The redirect target's proxy gets a latency toxic: a followed redirect that takes at least that long went through it.
    const latencyMs = 400;
    await addToxic(c, { proxy: byProxyPort(owner.port)!.proxy, type: 'latency', name: 'slow-redirect-target', attributes: { latency: latencyMs } });
    try {
      const t0 = Date.now();
      await cluster.set(key, 'followed');
      const tookMs = Date.now() - t0;
      expect(tookMs).to.be.at.least(latencyMs);
      expect(await cluster.get(key)).to.equal('followed');
    } finally {
      await removeToxic(c, byProxyPort(owner.port)!.proxy, 'slow-redirect-target');
    }
  });

  it('promotes the replica of a master killed by pid, and the promoted node serves the master\'s keys', async () => {
    const key = `test:failover:${randomUUID()}`;
    const owner = await ownerOf(key);
    const master = byProxyPort(owner.port)!;
    const replicaPort = (await slots()).find(([from, to]) => owner.slot >= from && owner.slot <= to)![3][1];
    const replica = byProxyPort(replicaPort)!;
    await cluster.set(key, 'before-failover');
    // Replication is asynchronous: wait until the replica has it, so what is tested is promotion, not loss.
    const acked = await withNode(c, master.nodePort, (r) => r.call('WAIT', '1', '2000'));
    expect(acked).to.equal(1);

    const sup = supervisorFor(c);
    const pid = sup.read(master.name)!.pid;
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitFor(
      `${replica.name} promoted`,
      async () => (await withNode(c, replica.nodePort, (r) => r.info('replication'))).includes('role:master'),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const promotedInMs = Date.now() - t0;
    console.log(`      (${replica.name} promoted ${promotedInMs} ms after ${master.name} was killed)`);
    await waitFor('the slot map to name the promoted node', async () => (await ownerOf(key)).port === replica.proxyPort, { timeoutMs: 30_000, intervalMs: 200 });
    const viaPromoted = await withNode(c, replica.nodePort, (r) => r.get(key));
    expect(viaPromoted).to.equal('before-failover');
    expect(await cluster.get(key)).to.equal('before-failover');

    // The killed node restarts with its nodes.conf and rejoins as a replica: the cluster is whole again.
    await up(c, silentProgress, { redis: 'cluster' });
    expect(clusterHealthy(await clusterView(c))).to.equal(true);
    const rejoined = await withNode(c, master.nodePort, (r) => r.info('replication'));
    expect(rejoined).to.include('role:slave');
  });
});
