import { z } from 'zod';
import { COMPATIBILITY_LEVELS } from '../../registry/compatibility';
import { runSubject, setCompatibility } from '../schema-registry-client';
import { defineFault, faultObject } from './define';

/** default subject: the run topic's value subject, `lab.exp.<run>-value` */
export const RegistrySubject = z.string().min(1).optional();

export const registrySetCompatibility = defineFault({
  type: 'registry-set-compatibility',
  summary: "sets the schema registry subject's compatibility level (PUT /config/{subject})",
  schema: faultObject('registry-set-compatibility', {
    level: z.enum(COMPATIBILITY_LEVELS),
    subject: RegistrySubject,
  }),
  facts: [],
  async apply(env, f) {
    const subject = runSubject(env.topic, f.subject);
    const a = await setCompatibility(env.c, subject, f.level);
    return {
      description: `registry: compatibility of ${subject} set to ${f.level} (HTTP ${a.status})`,
      data: { status: a.status },
    };
  },
});
