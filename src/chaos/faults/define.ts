import { z } from 'zod';
import type { FaultKind } from './types';

/** The message for attributes a kind does not have: the bad key(s) and every attribute the kind does have. */
export function unknownAttributesMessage(
  type: string,
  keys: readonly string[],
  valid: readonly string[],
): string {
  const bad = keys.map((k) => `"${k}"`).join(', ');
  return `unknown attribute${keys.length > 1 ? 's' : ''} ${bad} for a ${type} fault; valid attributes: ${valid.join(', ')}`;
}

/** A kind's attributes, `type` excepted, in declaration order. */
export const attributesOf = (schema: z.AnyZodObject): string[] =>
  Object.keys(schema.shape).filter((k) => k !== 'type');

/**
 * A fault kind's schema: `{ type: <literal>, ...shape }`, strict, and an unknown key is reported with the valid
 * attributes of this kind (zod's own message names only the bad key).
 */
export function faultObject<T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  const valid = Object.keys(shape);
  return z
    .object(
      { type: z.literal(type), ...shape },
      {
        errorMap: (issue, ctx) =>
          issue.code === 'unrecognized_keys'
            ? { message: unknownAttributesMessage(type, issue.keys, valid) }
            : { message: ctx.defaultError },
      },
    )
    .strict();
}

/** Keeps the schema's precise type, so the registry's union knows every kind's fields. */
export const defineFault = <S extends z.AnyZodObject>(kind: FaultKind<S>): FaultKind<S> => kind;
