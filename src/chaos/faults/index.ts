import { z } from 'zod';
import { UnknownNameError } from '../../lib/errors';
import { bandwidth } from './bandwidth';
import { broker } from './broker';
import { attributesOf, unknownAttributesMessage } from './define';
import { failpoint } from './failpoint';
import { latency } from './latency';
import { limitData } from './limit-data';
import { proxyDown } from './proxy-down';
import { redisClusterNode } from './redis-cluster-node';
import { redisClusterReshard } from './redis-cluster-reshard';
import { registryRegister } from './registry-register';
import { registrySetCompatibility } from './registry-set-compatibility';
import { replay } from './replay';
import { resetPeer } from './reset-peer';
import { service } from './service';
import { slicer } from './slicer';
import { slowClose } from './slow-close';
import { timeout } from './timeout';
import type { AppliedFault, FaultEnv, FaultKind } from './types';

export type { AppliedFault, FaultEnv, FaultKind, Rollback } from './types';

/**
 * THE table of fault kinds, by `type` (Toxiproxy's `Register`). Adding a kind: one file in this directory and
 * one line here; the experiment schema, `chaos inject` and experiments/README.md's table follow from it.
 */
export const FAULT_KINDS = [
  failpoint,
  latency,
  bandwidth,
  slowClose,
  timeout,
  resetPeer,
  slicer,
  limitData,
  proxyDown,
  broker,
  redisClusterNode,
  redisClusterReshard,
  service,
  replay,
  registrySetCompatibility,
  registryRegister,
] as const;

export const FAULT_TYPES = FAULT_KINDS.map((k) => k.type);
const BY_TYPE: ReadonlyMap<string, FaultKind<z.AnyZodObject>> = new Map(
  FAULT_KINDS.map((k) => [k.type, k as FaultKind<z.AnyZodObject>]),
);

export function faultKind(type: string): FaultKind<z.AnyZodObject> {
  const kind = BY_TYPE.get(type);
  if (!kind) throw new UnknownNameError('fault type', type, FAULT_TYPES);
  return kind;
}

/**
 * An unknown attribute becomes a `custom` issue at its own path (so a YAML loader points at its line) whose
 * message lists the kind's valid attributes; the key is then dropped so the strict schema does not report it twice.
 */
function rejectUnknownAttributes(raw: unknown, ctx: z.RefinementCtx): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const kind = BY_TYPE.get(String((raw as { type?: unknown }).type));
  if (!kind) return raw; // the union reports the unknown type with the valid ones
  const known = new Set(Object.keys(kind.schema.shape));
  const valid = attributesOf(kind.schema);
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (known.has(key)) clean[key] = value;
    else
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [key],
        message: unknownAttributesMessage(kind.type, [key], valid),
      });
  }
  return clean;
}

type SchemasOf<T extends readonly { schema: unknown }[]> = {
  -readonly [K in keyof T]: T[K]['schema'];
};
const schemas = FAULT_KINDS.map((k) => k.schema) as unknown as SchemasOf<typeof FAULT_KINDS>;

/** Every registered kind, discriminated by `type`; strict, an unknown attribute named with the valid ones. */
export const FaultSchema = z.preprocess(
  rejectUnknownAttributes,
  z.discriminatedUnion('type', schemas),
);
export type Fault = z.infer<typeof FaultSchema>;

/** Applies one (validated) fault: the engine calls it for every `method:` step, `chaos inject` for one by hand. */
export function applyFault(
  env: FaultEnv,
  fault: Fault,
  step: { index: number; name: string },
): Promise<AppliedFault> {
  return faultKind(fault.type).apply(env, fault, step);
}
