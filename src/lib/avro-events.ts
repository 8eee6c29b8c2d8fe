import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { RawAvroSchema } from '@kafkajs/confluent-schema-registry/dist/@types';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from './errors';
import { ProductEventSchema, type ProductEvent } from './events';

/**
 * Product events in Avro with Confluent's wire format (magic byte 0, 4-byte schema id, Avro body), schemas in
 * schemas/product-event/<name>.avsc and in the lab's schema registry. The producer (outbox-relay) writes with
 * EVENT_SCHEMA, the consumer reads with its own reader schema (CONSUMER_SCHEMA): Avro resolves one into the
 * other, or fails — which is what schema evolution is about.
 */
export const WRITER_SCHEMAS = ['v1', 'v2-breaking', 'v2-compatible'] as const;
export type WriterSchema = (typeof WRITER_SCHEMAS)[number];
/** What a consumer build understands: v1, or v2 (= the compatible v2: v1 + currency with a default). */
export const READER_SCHEMAS = { v1: 'v1', v2: 'v2-compatible' } as const satisfies Record<
  string,
  WriterSchema
>;
export type ReaderSchema = keyof typeof READER_SCHEMAS;

/** TopicNameStrategy, the Confluent serializers' default: one subject per topic's values. */
export const valueSubject = (topic: string) => `${topic}-value`;

export function schemaText(root: string, name: string): string {
  const file = path.join(root, 'schemas', 'product-event', `${name}.avsc`);
  if (!fs.existsSync(file))
    throw new LabError(
      `no schema ${name}: ${file} is missing; known: ${WRITER_SCHEMAS.join(', ')}`,
    );
  return fs.readFileSync(file, 'utf8');
}

/** Confluent framing: magic byte 0 then a schema id. JSON events start with `{`, so the two never mix up. */
export const isConfluentFramed = (value: Buffer | null | undefined): value is Buffer =>
  !!value && value.length >= 5 && value[0] === 0;

/** The writer's record for an event: what each schema version of the producer puts on the wire. */
function toRecord(schema: WriterSchema, e: ProductEvent): Record<string, unknown> {
  if (schema === 'v2-breaking') {
    const { price, ...rest } = e;
    return { ...rest, priceCents: Math.round(price * 100) };
  }
  if (schema === 'v2-compatible') return { ...e, currency: 'EUR' };
  return { ...e };
}

/** The registry refused the producer's schema (HTTP 409): it would break the subject's readers. */
export class SchemaRejectedError extends LabError {
  constructor(subject: string, schema: string, detail: string) {
    super(
      `schema registry rejected ${schema} for ${subject} (HTTP 409: ${detail.slice(0, 300)}); roll the producer back or make the change compatible (add fields with defaults) and upgrade consumers first`,
      { retriable: false },
    );
  }
}

/** The registry did not answer: the next attempt may succeed. */
export class RegistryUnavailableError extends LabError {
  constructor(what: string, cause: unknown) {
    super(
      `schema registry unavailable while ${what} (${(cause as Error).message}); check \`chaos status\` shows schema-registry healthy`,
      { retriable: true, cause },
    );
  }
}

/**
 * The writer's schema cannot be resolved into this consumer's reader schema (e.g. a required field is gone).
 * Marked retriable on purpose: a consumer cannot tell "a schema I will understand once upgraded" or a registry
 * hiccup from a permanent break, so it retries with backoff like any failure — each such message costs
 * CONSUMER_MAX_ATTEMPTS attempts before the DLQ, which is why lag grows while the producer is ahead.
 */
export class SchemaMismatchError extends LabError {
  constructor(
    readonly schemaId: number,
    reader: string,
    reason: string,
  ) {
    super(
      `cannot read an event written with schema id ${schemaId} using reader schema ${reader}: ${reason}; upgrade the consumer (CONSUMER_SCHEMA) or roll the producer back, then replay the DLQ`,
      { retriable: true },
    );
  }
}

/** Producer side: registers its schema once (as Confluent serializers do with auto.register.schemas), then encodes. */
export function avroEventEncoder(
  registryUrl: string,
  root: string,
  schema: WriterSchema,
  topic: string,
) {
  const registry = new SchemaRegistry({ host: registryUrl, retry: { retries: 2 } });
  const text = schemaText(root, schema);
  const subject = valueSubject(topic);
  let id: number | undefined;
  async function register(): Promise<number> {
    let res: Response;
    try {
      res = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: text }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (e) {
      throw new RegistryUnavailableError(`registering ${schema}`, e);
    }
    // An error page need not be JSON: then the status alone decides, just below.
    const body = (await res.json().catch(() => ({}))) as { id?: number; message?: string };
    if (res.status === 409) throw new SchemaRejectedError(subject, schema, body.message ?? '');
    if (!res.ok || typeof body.id !== 'number')
      throw new RegistryUnavailableError(
        `registering ${schema}`,
        new Error(`HTTP ${res.status} ${body.message ?? ''}`),
      );
    return body.id;
  }
  return {
    schema,
    subject,
    get schemaId() {
      return id;
    },
    async encode(e: ProductEvent): Promise<Buffer> {
      id ??= await register();
      return registry.encode(id, toRecord(schema, e));
    },
  };
}
export type AvroEventEncoder = ReturnType<typeof avroEventEncoder>;

/** Consumer side: looks the writer's schema up by the id on the wire and resolves it into the reader schema. */
export function avroEventDecoder(registryUrl: string, root: string, reader: ReaderSchema) {
  const registry = new SchemaRegistry({ host: registryUrl, retry: { retries: 2 } });
  const readerSchema = JSON.parse(schemaText(root, READER_SCHEMAS[reader])) as RawAvroSchema;
  return {
    reader,
    async decode(value: Buffer): Promise<ProductEvent> {
      const schemaId = value.readInt32BE(1);
      try {
        await registry.getSchema(schemaId);
      } catch (e) {
        throw new RegistryUnavailableError(`fetching schema id ${schemaId}`, e);
      }
      let record: Record<string, unknown>;
      try {
        record = (await registry.decode(value, { [SchemaType.AVRO]: { readerSchema } })) as Record<
          string,
          unknown
        >;
      } catch (e) {
        throw new SchemaMismatchError(schemaId, reader, (e as Error).message);
      }
      const { currency: _currency, ...event } = record; // v2 readers get it; the read model does not store it
      const parsed = ProductEventSchema.safeParse(event);
      if (!parsed.success)
        throw new SchemaMismatchError(
          schemaId,
          reader,
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      return parsed.data;
    },
  };
}
export type AvroEventDecoder = ReturnType<typeof avroEventDecoder>;
