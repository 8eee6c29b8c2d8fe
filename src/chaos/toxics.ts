import { Toxiproxy } from 'toxiproxy-node-client';
import { z } from 'zod';
import type { LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';
import { toxiproxyUrl } from '../runtime/components/toxiproxy';

/** Toxiproxy's own fault vocabulary — we do not invent a second one. Attribute units are Toxiproxy's (ms, KB/s). */
export const TOXIC_TYPES = ['latency', 'bandwidth', 'slow_close', 'timeout', 'reset_peer', 'slicer', 'limit_data', 'down'] as const;

export const ToxicSpecSchema = z.object({
  proxy: z.string().min(1),
  name: z.string().min(1).optional(),
  type: z.enum(TOXIC_TYPES),
  stream: z.enum(['upstream', 'downstream']).default('downstream'),
  toxicity: z.number().min(0).max(1).default(1),
  attributes: z.record(z.number()).default({}),
});
export type ToxicSpec = z.input<typeof ToxicSpecSchema>;

export class ToxicError extends LabError {}

export const toxiproxy = (c: LabConfig) => new Toxiproxy(toxiproxyUrl(c));

/**
 * Adds a toxic (or, for type `down`, disables the proxy: Toxiproxy models "down" as `enabled: false`).
 * Returns the toxic's name, needed to remove it.
 */
export async function addToxic(c: LabConfig, input: ToxicSpec): Promise<string> {
  const spec = ToxicSpecSchema.parse(input);
  const tp = toxiproxy(c);
  let proxy;
  try {
    proxy = await tp.get(spec.proxy);
  } catch {
    const names = Object.keys(await tp.getAll().catch(() => ({})));
    throw new ToxicError(`no proxy "${spec.proxy}" in Toxiproxy; proxies: ${names.join(', ') || '(toxiproxy not reachable: run `chaos up`)'}`);
  }
  const name = spec.name ?? `${spec.type}_${spec.stream}`;
  if (spec.type === 'down') {
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    return name;
  }
  await proxy.addToxic({ name, type: spec.type as never, stream: spec.stream as never, toxicity: spec.toxicity, attributes: spec.attributes as never });
  return name;
}

export async function removeToxic(c: LabConfig, proxyName: string, toxicName: string, type?: string): Promise<void> {
  const proxy = await toxiproxy(c).get(proxyName);
  if (type === 'down') {
    await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    return;
  }
  const toxic = await proxy.getToxic(toxicName);
  await toxic.remove();
}

/** Runs `fn` with the toxic in place; the toxic is removed whatever happens. */
export async function withToxic<T>(c: LabConfig, spec: ToxicSpec, fn: () => Promise<T>): Promise<T> {
  const name = await addToxic(c, spec);
  try {
    return await fn();
  } finally {
    await removeToxic(c, spec.proxy, name, spec.type);
  }
}

/** Every proxy with its toxics, for `chaos status` and the lab UI. */
export async function listToxics(c: LabConfig) {
  const all = await toxiproxy(c).getAll();
  return Object.values(all).map((p) => ({ ...p.toJson() }));
}
