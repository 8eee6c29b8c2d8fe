import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { z } from 'zod';
import { LabError } from './errors';

/**
 * The event contract shared by command-service, outbox-relay, consumer-service, query-service, replay-worker and
 * the experiment audit. Key = product id (string); header `event-id` = eventId so tools can dedup without parsing.
 */
export const DEFAULT_TOPIC = 'lab.products';
export const dlqTopic = (topic: string) => `${topic}.DLQ`;
export const EVENT_ID_HEADER = 'event-id';

export const EVENT_TYPES = ['ProductCreated', 'ProductUpdated'] as const;
export const ProductEventSchema = z.object({
  eventId: z.string().uuid(),
  type: z.enum(EVENT_TYPES),
  productId: z.number().int().positive(),
  version: z.number().int().min(1),
  name: z.string(),
  price: z.number(),
  stock: z.number().int(),
  occurredAt: z.string(),
});
export type ProductEvent = z.infer<typeof ProductEventSchema>;

/** A message that can never be processed as it is (bad JSON, wrong shape): retrying will not help, DLQ it. */
export class EventDecodeError extends LabError {
  constructor(reason: string) {
    super(
      `not a valid product event: ${reason}; it belongs in the DLQ — fix the producer, then replay it`,
      { retriable: false },
    );
  }
}

export function encodeProductEvent(e: ProductEvent): Message {
  return {
    key: String(e.productId),
    value: JSON.stringify(e),
    headers: { [EVENT_ID_HEADER]: e.eventId },
  };
}

export function decodeProductEvent(value: Buffer | string | null | undefined): ProductEvent {
  if (value === null || value === undefined) throw new EventDecodeError('empty value (tombstone)');
  let json: unknown;
  try {
    json = JSON.parse(value.toString());
  } catch (e) {
    throw new EventDecodeError(`value is not JSON (${(e as Error).message})`);
  }
  const parsed = ProductEventSchema.safeParse(json);
  if (!parsed.success)
    throw new EventDecodeError(
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  return parsed.data;
}

/** Headers as strings (kafkajs gives Buffers, or arrays of them for repeated headers; we keep the last). */
export function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (last !== undefined) out[k] = last.toString();
  }
  return out;
}

/** The event id of a message: its header first (works even when the body is broken), else the body. */
export function messageEventId(m: Pick<KafkaMessage, 'headers' | 'value'>): string | undefined {
  const h = headerStrings(m.headers)[EVENT_ID_HEADER];
  if (h) return h;
  try {
    return decodeProductEvent(m.value).eventId;
  } catch {
    return undefined; // not a product event (poison, another schema): no id, which the caller reports as such
  }
}
