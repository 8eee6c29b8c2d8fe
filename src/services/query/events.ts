import { z } from 'zod';

/**
 * The product change event as this service reads it. LOCAL copy of the shared contract: src/lib/events.ts did not
 * exist when this service was written; switch to it once it lands. We validate only what invalidation needs
 * (productId, version, type) and pass the rest through, so a producer adding a field does not break us.
 */
export const PRODUCT_EVENT_TYPES = ['ProductCreated', 'ProductUpdated'] as const;

export const ProductEventSchema = z
  .object({
    eventId: z.string().min(1),
    type: z.enum(PRODUCT_EVENT_TYPES),
    // BIGINT ids may arrive as a JSON number or a string; the cache keys on the decimal string either way.
    productId: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String),
    version: z.number().int().nonnegative(),
    name: z.string().optional(),
    price: z.union([z.string(), z.number()]).optional(),
    stock: z.number().int().optional(),
    occurredAt: z.string().optional(),
  })
  .passthrough();
export type ProductEvent = z.infer<typeof ProductEventSchema>;
export type ProductEventInput = z.input<typeof ProductEventSchema>;

export const EVENT_ID_HEADER = 'event-id';
