import { Toxiproxy } from 'toxiproxy-node-client';
import { z } from 'zod';
import type { LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';
import { toxiproxyUrl } from '../runtime/components/toxiproxy';

/**
 * Toxiproxy's own fault vocabulary — we do not invent a second one. Each toxic type has its own attribute
 * schema in Toxiproxy's names and units (`latency`/`jitter` ms, `rate` KB/s, slicer `delay` µs), strict, so a
 * misspelt attribute is an error here rather than a toxic that silently does nothing. User input reaches this
 * only through the fault kinds of src/chaos/faults (units in their field names), which map onto these.
 */
const ms = z.number().int().min(0);
const bytes = z.number().int().min(0);
const base = {
  proxy: z.string().min(1),
  name: z.string().min(1).optional(),
  stream: z.enum(['upstream', 'downstream']).default('downstream'),
  toxicity: z.number().min(0).max(1).default(1),
};
const toxic = <T extends string, A extends z.ZodRawShape>(type: T, attributes: A) =>
  z.object({ ...base, type: z.literal(type), attributes: z.object(attributes).strict() }).strict();

export const ToxicSpecSchema = z.discriminatedUnion('type', [
  toxic('latency', { latency: ms, jitter: ms.default(0) }),
  toxic('bandwidth', { rate: z.number().int().min(0) }),
  toxic('slow_close', { delay: ms }),
  toxic('timeout', { timeout: ms }),
  toxic('reset_peer', { timeout: ms }),
  toxic('slicer', {
    average_size: bytes,
    size_variation: bytes.default(0),
    delay: z.number().int().min(0).default(0),
  }),
  toxic('limit_data', { bytes }),
  // Not a toxic in Toxiproxy: "down" is the proxy's `enabled: false`; kept here for the callers that cut a link.
  z.object({ ...base, type: z.literal('down') }).strict(),
]);
export type ToxicSpec = z.input<typeof ToxicSpecSchema>;
export type ToxicType = ToxicSpec['type'];
export const TOXIC_TYPES = ToxicSpecSchema.options.map(
  (o) => o.shape.type.value,
) as readonly ToxicType[];

export class ToxicError extends LabError {}

/** The proxy or the toxic is not there any more (Toxiproxy restarted, `chaos heal`, or a wrong name). */
export class ToxicGoneError extends ToxicError {
  constructor(
    message: string,
    readonly what: 'proxy' | 'toxic',
  ) {
    super(message);
  }
}

export const toxiproxy = (c: LabConfig) => new Toxiproxy(toxiproxyUrl(c));

/** One call to Toxiproxy's HTTP API; an unreachable Toxiproxy is a ToxicError naming the URL and the fix. */
async function call(
  c: LabConfig,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${toxiproxyUrl(c)}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
  } catch (e) {
    throw new ToxicError(
      `Toxiproxy unreachable at ${toxiproxyUrl(c)} (${(e as Error).message}): run \`chaos up\`, then \`chaos heal\``,
      { cause: e },
    );
  }
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function proxyNames(c: LabConfig): Promise<string[]> {
  const all = await call(c, 'GET', '/proxies');
  return Object.keys((all.json ?? {}) as Record<string, unknown>);
}

async function proxyGone(c: LabConfig, proxy: string): Promise<ToxicGoneError> {
  return new ToxicGoneError(
    `no proxy "${proxy}" in Toxiproxy; proxies: ${(await proxyNames(c)).join(', ') || '(none)'}`,
    'proxy',
  );
}

const failed = (what: string, r: { status: number; json: unknown }) =>
  new ToxicError(`${what} failed: HTTP ${r.status} ${JSON.stringify(r.json ?? '')}`);

/** A proxy's listen and upstream addresses, as Toxiproxy has them now (cluster proxies are made at run time). */
export async function proxyAddresses(
  c: LabConfig,
  proxy: string,
): Promise<{ listen: string; upstream: string }> {
  const r = await call(c, 'GET', `/proxies/${encodeURIComponent(proxy)}`);
  if (r.status === 404) throw await proxyGone(c, proxy);
  if (r.status !== 200) throw failed(`reading proxy ${proxy}`, r);
  const { listen, upstream } = r.json as { listen: string; upstream: string };
  return { listen, upstream };
}

/** Toxiproxy models "down" as the proxy's `enabled: false`; POST /proxies/<name> keeps the fields it is not given. */
export async function setProxyEnabled(
  c: LabConfig,
  proxy: string,
  enabled: boolean,
): Promise<void> {
  const r = await call(c, 'POST', `/proxies/${encodeURIComponent(proxy)}`, { enabled });
  if (r.status === 404) throw await proxyGone(c, proxy);
  if (r.status !== 200) throw failed(`${enabled ? 'enabling' : 'disabling'} proxy ${proxy}`, r);
}

/**
 * Adds a toxic (or, for type `down`, disables the proxy). Returns the toxic's name, needed to remove it.
 * The spec is validated again here: internal callers write Toxiproxy's attribute names by hand.
 */
export async function addToxic(c: LabConfig, input: ToxicSpec): Promise<string> {
  const spec = ToxicSpecSchema.parse(input);
  const name = spec.name ?? `${spec.type}_${spec.stream}`;
  if (spec.type === 'down') {
    await setProxyEnabled(c, spec.proxy, false);
    return name;
  }
  const body = {
    name,
    type: spec.type,
    stream: spec.stream,
    toxicity: spec.toxicity,
    attributes: spec.attributes,
  };
  const r = await call(c, 'POST', `/proxies/${encodeURIComponent(spec.proxy)}/toxics`, body);
  if (r.status === 404) throw await proxyGone(c, spec.proxy);
  if (r.status === 409)
    throw new ToxicError(
      `proxy ${spec.proxy} already has a toxic named ${name}: remove it (\`chaos heal\`) or pick another name`,
    );
  if (r.status !== 200) throw failed(`adding toxic ${name} to ${spec.proxy}`, r);
  return name;
}

/**
 * Removes a toxic (type `down`: re-enables the proxy). A toxic or proxy that is not there is a ToxicGoneError:
 * whether that is a failure is the caller's to say (a fault that removed it on its own timer knows it did).
 */
export async function removeToxic(
  c: LabConfig,
  proxyName: string,
  toxicName: string,
  type?: string,
): Promise<void> {
  if (type === 'down') return setProxyEnabled(c, proxyName, true);
  const r = await call(
    c,
    'DELETE',
    `/proxies/${encodeURIComponent(proxyName)}/toxics/${encodeURIComponent(toxicName)}`,
  );
  if (r.status === 204 || r.status === 200) return;
  if (r.status !== 404) throw failed(`removing toxic ${toxicName} from ${proxyName}`, r);
  if (!(await proxyNames(c)).includes(proxyName)) throw await proxyGone(c, proxyName);
  throw new ToxicGoneError(
    `toxic ${toxicName} is not on proxy ${proxyName} any more (removed by \`chaos heal\`, or Toxiproxy restarted)`,
    'toxic',
  );
}

/** Runs `fn` with the toxic in place; the toxic is removed whatever happens. */
export async function withToxic<T>(
  c: LabConfig,
  spec: ToxicSpec,
  fn: () => Promise<T>,
): Promise<T> {
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
