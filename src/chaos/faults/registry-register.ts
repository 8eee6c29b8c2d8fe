import { z } from 'zod';
import { WRITER_SCHEMAS } from '../../lib/avro-events';
import { registerSchema, runSubject } from '../schema-registry-client';
import { defineFault, faultObject } from './define';
import { RegistrySubject } from './registry-set-compatibility';

/** As a producer's deploy or CI check registers its schema: 200 (accepted) and 409 (incompatible) are answers. */
export const registryRegister = defineFault({
  type: 'registry-register',
  summary:
    'registers a writer schema (schemas/product-event/{schema}.avsc) under the subject; 409 = rejected',
  schema: faultObject('registry-register', {
    schema: z.enum(WRITER_SCHEMAS),
    subject: RegistrySubject,
  }),
  facts: ['schemaRejected'],
  async apply(env, f) {
    const subject = runSubject(env.topic, f.subject);
    const a = await registerSchema(env.c, subject, f.schema);
    const rejected = a.status === 409;
    return {
      description: `registry: register ${f.schema} under ${subject} → HTTP ${a.status}${rejected ? ' (rejected: incompatible)' : ` (schema id ${a.id})`}`,
      facts: rejected ? { schemaRejected: 1 } : undefined,
      data: { status: a.status, id: a.id, message: a.message },
    };
  },
});
