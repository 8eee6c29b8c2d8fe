import { z as zod, type z } from 'zod';
import {
  FAULTS,
  faultTopic,
  flagName,
  inject,
  injectedFault,
  INJECT_ALIASES,
} from '../chaos/inject';
import { FAULT_KINDS, faultKind, type FaultKind } from '../chaos/faults';
import { attributeInfo, type AttributeInfo } from '../chaos/faults/describe';
import { heal, type HealResult } from '../chaos/heal';
import { removeToxic } from '../chaos/toxics';
import type { LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';

/** A form field: one attribute of a kind, named by its CLI flag, its unit read from the name (latencyMs → ms). */
export interface CatalogField extends AttributeInfo {
  flag: string;
  unit?: string;
}
export interface CatalogEntry {
  /** the name `chaos inject` takes: a kind, or an alias with fixed fields */
  name: string;
  kind: string;
  summary: string;
  /** proxy, broker or service: what `--target` names, if the kind has one */
  target?: string;
  /** the alias's fixed fields, not asked for */
  fixed?: Record<string, unknown>;
  fields: CatalogField[];
}

const TARGETS = ['proxy', 'broker', 'service'] as const;
/** Units as the attribute names spell them, longest first (rateKBps before Bps). */
const UNITS: [RegExp, string][] = [
  [/Ms$/, 'ms'],
  [/KBps$/, 'KB/s'],
  [/Bytes$/, 'bytes'],
  [/Sec$/, 's'],
];

function fields(
  kind: FaultKind<z.AnyZodObject>,
  fixed: Record<string, unknown> = {},
): CatalogField[] {
  return attributeInfo(kind.schema)
    .filter(
      (a) =>
        !(TARGETS as readonly string[]).includes(a.name) &&
        a.type !== 'record' &&
        !(a.name in fixed),
    )
    .map((a) => {
      const unit = UNITS.find(([re]) => re.test(a.name))?.[1];
      return { ...a, flag: flagName(a.name), ...(unit ? { unit } : {}) };
    });
}

/** The inject catalog as the form shows it: every name `chaos inject` accepts, with its fields. */
export function catalog(): CatalogEntry[] {
  const entry = (name: string, type: string, fixed?: Record<string, unknown>): CatalogEntry => {
    const kind = faultKind(type);
    const target = TARGETS.find((t) => t in kind.schema.shape);
    return {
      name,
      kind: type,
      summary: kind.summary,
      ...(target ? { target } : {}),
      ...(fixed ? { fixed } : {}),
      fields: fields(kind, fixed),
    };
  };
  return FAULTS.map((name) => {
    const alias = INJECT_ALIASES[name];
    return alias ? entry(name, alias.type, alias.fields) : entry(name, name);
  }).filter((e) => FAULT_KINDS.some((k) => k.type === e.kind));
}

/** POST /api/inject: what `chaos inject <fault> --target … --<flag> …` takes, flags by their CLI names. */
export const InjectRequest = zod
  .object({
    fault: zod.string().min(1),
    target: zod.string().min(1).optional(),
    topic: zod.string().min(1).optional(),
    exp: zod.string().min(1).optional(),
    flags: zod.record(zod.union([zod.string(), zod.boolean()])).default({}),
  })
  .strict();

/** A request the CLI would refuse too (or a malformed one): HTTP 400 with the CLI's message. */
export class BadRequestError extends LabError {}

/**
 * `chaos inject`'s path: the same fault built and validated from the same names (injectedFault), then applied by
 * `inject`. A problem with the request (unknown fault, a flag of another kind, a bad value) is a BadRequestError
 * carrying the CLI's message; a failure while applying stays a LabError.
 */
export async function injectFromUi(c: LabConfig, body: unknown) {
  const parsed = InjectRequest.safeParse(body ?? {});
  if (!parsed.success)
    throw new BadRequestError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  const r = parsed.data;
  // Empty form fields are flags not given; the CLI has flags as strings too.
  const flags = Object.fromEntries(Object.entries(r.flags).filter(([, v]) => v !== ''));
  const o = { target: r.target, flags };
  let topic: string;
  try {
    topic = await faultTopic(c, { topic: r.topic, exp: r.exp });
    await injectedFault(c, r.fault, o, topic);
  } catch (e) {
    if (e instanceof LabError) throw new BadRequestError(e.message, { cause: e });
    throw e;
  }
  return inject(c, r.fault, o, topic);
}

/** POST /api/faults/remove: one toxic off one proxy, or (type `down`) a disabled proxy enabled again. */
export const RemoveRequest = zod
  .object({
    proxy: zod.string().min(1),
    toxic: zod.string().min(1),
    type: zod.string().min(1).optional(),
  })
  .strict();

export async function removeFromUi(c: LabConfig, body: unknown): Promise<{ removed: string }> {
  const parsed = RemoveRequest.safeParse(body ?? {});
  if (!parsed.success)
    throw new BadRequestError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  await removeToxic(c, parsed.data.proxy, parsed.data.toxic, parsed.data.type);
  return { removed: `${parsed.data.toxic} on ${parsed.data.proxy}` };
}

export const healFromUi = (c: LabConfig): Promise<HealResult> => heal(c);
