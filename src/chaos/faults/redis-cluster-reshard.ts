import { z } from 'zod';
import { moveSlots, planReshard } from '../../runtime/redis-cluster-slots';
import { defineFault, faultObject } from './define';

/**
 * Moves slots between two masters of the Redis Cluster with `redis-cli --cluster reshard`, as an operator scaling
 * out would: the lowest `slots` slots of slot 0's master go to slot 16383's master, keys and all. Clients meet
 * MOVED for a slot handed over and ASK (or TRYAGAIN, for multi-key commands) for one mid-migration. The rollback
 * moves the same slots back, so the cluster is left as `create` made it.
 */
export const redisClusterReshard = defineFault({
  type: 'redis-cluster-reshard',
  summary:
    'move the lowest `slots` slots of slot 0’s master to slot 16383’s master (redis-cli --cluster reshard); undone by moving them back',
  schema: faultObject('redis-cluster-reshard', {
    slots: z.number().int().min(1).max(5_000),
  }),
  facts: ['slotsMoved'],
  async apply(env, f) {
    const plan = await planReshard(env.c, f.slots);
    const startedMs = Date.now();
    await moveSlots(env.c, plan.source, plan.target, f.slots);
    const slotList = [...plan.moving];
    const range = `${Math.min(...slotList)}–${Math.max(...slotList)}`;
    return {
      description: `moved ${f.slots} slots (${range}) from ${plan.source.node.name} to ${plan.target.node.name} in ${Date.now() - startedMs} ms`,
      facts: { slotsMoved: f.slots },
      data: {
        from: plan.source.node.name,
        to: plan.target.node.name,
        slots: range,
        tookMs: Date.now() - startedMs,
      },
      rollback: {
        name: `move slots ${range} back from ${plan.target.node.name} to ${plan.source.node.name}`,
        run: () => moveSlots(env.c, plan.target, plan.source, f.slots),
        leftover: `slots ${range} served by ${plan.target.node.name} instead of ${plan.source.node.name}`,
        fix: `redis-cli --cluster reshard ${env.c.host}:${plan.target.node.proxyPort} --cluster-from ${plan.target.id} --cluster-to ${plan.source.id} --cluster-slots ${f.slots} --cluster-yes`,
      },
    };
  },
});
