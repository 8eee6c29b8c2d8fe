import { schemaText, valueSubject } from '../lib/avro-events';
import type { LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';
import { schemaRegistryUrl } from '../runtime/components/schema-registry';

export interface RegistryAnswer {
  status: number;
  /** register: the schema id when accepted */
  id?: number;
  message?: string;
}

async function call(
  c: LabConfig,
  method: string,
  path: string,
  body: unknown,
): Promise<RegistryAnswer> {
  let res: Response;
  try {
    res = await fetch(`${schemaRegistryUrl(c)}${path}`, {
      method,
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    throw new LabError(
      `schema registry unreachable at ${schemaRegistryUrl(c)} (${(e as Error).message}); run \`chaos up\` and check \`chaos status\``,
      { cause: e },
    );
  }
  // An error page may not be JSON: the status is the answer then, and the message stays empty.
  const json = (await res.json().catch(() => ({}))) as { id?: number; message?: string };
  return { status: res.status, id: json.id, message: json.message };
}

/** PUT /config/<subject>: the level every later registration under the subject is checked against. */
export async function setCompatibility(
  c: LabConfig,
  subject: string,
  level: string,
): Promise<RegistryAnswer> {
  const a = await call(c, 'PUT', `/config/${encodeURIComponent(subject)}`, {
    compatibility: level,
  });
  if (a.status !== 200)
    throw new LabError(
      `setting compatibility ${level} on ${subject} failed: HTTP ${a.status} ${a.message ?? ''}`,
    );
  return a;
}

/**
 * POST /subjects/<subject>/versions, as a producer's deploy or a CI check would. 200 (accepted) and 409
 * (incompatible: the point of a compatibility level) are both answers, returned; anything else is an error.
 */
export async function registerSchema(
  c: LabConfig,
  subject: string,
  schema: string,
): Promise<RegistryAnswer> {
  const a = await call(c, 'POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
    schema: schemaText(c.root, schema),
  });
  if (a.status !== 200 && a.status !== 409)
    throw new LabError(
      `registering ${schema} under ${subject} failed: HTTP ${a.status} ${a.message ?? ''}`,
    );
  return a;
}

export const runSubject = (topic: string, subject?: string) => subject ?? valueSubject(topic);
