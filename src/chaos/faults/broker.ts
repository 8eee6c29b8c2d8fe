import { z } from 'zod';
import { brokerName } from '../process-faults';
import { runtimeDriver } from '../../runtime/driver';
import { silentProgress } from '../../runtime/progress';
import { up } from '../../runtime/stack';
import { defineFault, faultObject } from './define';
import { notRunning } from './effect';

export const broker = defineFault({
  type: 'broker',
  summary:
    'kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT) a Kafka broker, or restart whatever is down',
  schema: faultObject('broker', {
    action: z.enum(['kill', 'pause', 'resume', 'restart']),
    broker: z.number().int().min(1).max(3),
  }),
  facts: ['brokerKills'],
  async apply(env, f) {
    const comp = brokerName(env.c, f.broker);
    if (f.action === 'restart') {
      await up(env.c, silentProgress);
      return { description: 'brokers restarted; cluster healthy' };
    }
    const driver = runtimeDriver(env.c);
    if (f.action !== 'resume') notRunning(env.c, driver.name, comp, f.action);
    await driver[f.action](comp);
    const description = `${f.action} ${comp}${driver.name === 'local' ? '' : ` (${driver.name} runtime)`}`;
    if (f.action === 'pause')
      return {
        description,
        rollback: {
          name: `resume ${comp}`,
          run: () => driver.resume(comp),
          leftover: `${comp} paused (SIGSTOP)`,
          fix: 'chaos heal',
        },
      };
    if (f.action === 'kill')
      return {
        description,
        facts: { brokerKills: 1 },
        rollback: {
          name: `restart ${comp}`,
          run: () => reviveWithRetries(() => driver.revive(comp)),
          leftover: `${comp} not running`,
          fix: 'chaos up',
        },
      };
    return { description };
  },
});

/** A JVM restart on a crowded 2-core box can miss the start timeout once; `up` then stops it, and we try again. */
async function reviveWithRetries(revive: () => Promise<void>, attempts = 3): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await revive();
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
  }
}
