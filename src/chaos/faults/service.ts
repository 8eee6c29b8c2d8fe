import { z } from 'zod';
import { runtimeDriver } from '../../runtime/driver';
import { SERVICE_NAMES, type ServiceName } from '../../runtime/services';
import { defineFault, faultObject } from './define';
import { notRunning } from './effect';

export const LabServiceName = z.enum(SERVICE_NAMES as [ServiceName, ...ServiceName[]]);

export const service = defineFault({
  type: 'service',
  summary:
    'crash (kill -9), stop, start or restart a lab service, optionally with changed env (a deploy)',
  schema: faultObject('service', {
    action: z.enum(['crash', 'restart', 'stop', 'start']),
    service: LabServiceName,
    /** env changes applied on restart/start, e.g. removing CONSUMER_POISON = "the fix is deployed" */
    env: z.record(z.string()).optional(),
  }),
  // a crash is counted by the watcher when it sees the death, like any other
  facts: [],
  async apply(env, f) {
    if (f.action === 'crash') {
      const driver = runtimeDriver(env.c);
      notRunning(env.c, driver.name, f.service, 'crash');
      await driver.kill(f.service);
      return { description: `kill -9 ${f.service}` };
    }
    if (f.action === 'stop') {
      await env.port.stop(f.service);
      return { description: `stopped ${f.service}` };
    }
    await env.port.start(f.service, f.env);
    return {
      description: `${f.action}ed ${f.service}${f.env ? ` with ${JSON.stringify(f.env)}` : ''}`,
    };
  },
});
