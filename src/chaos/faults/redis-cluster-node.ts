import { z } from 'zod';
import { CLUSTER_NODE_COUNT, CLUSTER_NODE_PREFIX } from '../../runtime/components/redis-cluster';
import { runtimeDriver } from '../../runtime/driver';
import { silentProgress } from '../../runtime/progress';
import { up } from '../../runtime/stack';
import { defineFault, faultObject } from './define';
import { notRunning } from './effect';

/**
 * Kills (SIGKILL) a node of the Redis Cluster, by its pidfile. No persistence: what the node had and its replica
 * did not is gone. The rollback brings it back (`chaos up --redis cluster`): it rejoins with its nodes.conf, as a
 * replica of whoever took its slots, and returns once the cluster is whole again.
 */
export const redisClusterNode = defineFault({
  type: 'redis-cluster-node',
  summary: 'kill (SIGKILL) a Redis Cluster node (1…6); undone by restarting it, as a replica',
  schema: faultObject('redis-cluster-node', {
    action: z.enum(['kill']),
    node: z.number().int().min(1).max(CLUSTER_NODE_COUNT),
  }),
  facts: ['clusterNodeKills'],
  async apply(env, f) {
    const comp = `${CLUSTER_NODE_PREFIX}${f.node}`;
    const driver = runtimeDriver(env.c);
    notRunning(env.c, driver.name, comp, 'kill');
    await driver.kill(comp);
    return {
      description: `kill ${comp}`,
      facts: { clusterNodeKills: 1 },
      rollback: {
        name: `restart ${comp} (it rejoins as a replica)`,
        run: async () => void (await up(env.c, silentProgress, { redis: 'cluster' })),
        leftover: `${comp} not running`,
        fix: 'chaos up --redis cluster',
      },
    };
  },
});
