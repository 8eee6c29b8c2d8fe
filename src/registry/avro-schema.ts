import * as avro from 'avsc';
import { RegistryError } from './errors';

/**
 * A registered Avro schema: the text exactly as submitted (what the registry stores and serves), the type
 * compatibility checks run with (parsed from that text, so field defaults, aliases and enum defaults count),
 * and the canonical form that decides identity.
 */
export interface AvroSchema {
  text: string;
  type: avro.Type;
  canonical: string;
}

const PRIMITIVES = new Set([
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'bytes',
  'string',
]);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const qualify = (name: string, namespace: string | undefined) =>
  name.includes('.') || !namespace ? name : `${namespace}.${name}`;
const namespaceOf = (fullName: string) =>
  fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : undefined;

/** JSON with every object's keys sorted: key order and whitespace never make a schema (or a default) different. */
function stableStringify(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/**
 * Rewrites a schema into one form per meaning, as Avro's Java Schema.toString (Confluent's canonicalString) does:
 * names fully qualified (no `namespace`), `{"type":"int"}` as `"int"`, `order: ascending` (the default) dropped.
 * Everything else stays: defaults, logical types and their parameters, aliases, order, doc, enum symbols and
 * defaults, custom properties.
 */
class Canonicalizer {
  private readonly defined = new Set<string>();

  node(n: Json, ns: string | undefined): Json {
    if (typeof n === 'string') return PRIMITIVES.has(n) ? n : this.reference(n, ns);
    if (Array.isArray(n)) return n.map((b) => this.node(b, ns));
    if (!n || typeof n !== 'object') return n;
    const { type, ...attrs } = n;
    if (typeof type === 'string' && NAMED.has(type)) return this.named(n, ns);
    if (type === 'array') return { ...attrs, type, items: this.node(attrs.items, ns) };
    if (type === 'map') return { ...attrs, type, values: this.node(attrs.values, ns) };
    const inner = this.node(type, ns);
    return Object.keys(attrs).length ? { ...attrs, type: inner } : inner;
  }

  /** Java's Names.get: the name in the enclosing namespace if defined there, else as written. */
  private reference(name: string, ns: string | undefined): string {
    const qualified = qualify(name, ns);
    return this.defined.has(qualified) ? qualified : name;
  }

  private named(n: JsonObject, ns: string | undefined): Json {
    const { namespace, ...attrs } = n;
    const name = qualify(
      String(attrs.name),
      typeof namespace === 'string' ? namespace || undefined : ns,
    );
    this.defined.add(name);
    const inner = namespaceOf(name);
    const out: JsonObject = { ...attrs, name };
    if (Array.isArray(attrs.aliases))
      out.aliases = attrs.aliases.map((a) => qualify(String(a), inner));
    if (Array.isArray(attrs.fields))
      out.fields = attrs.fields.map((f) => this.field(f as JsonObject, inner));
    return out;
  }

  private field(f: JsonObject, ns: string | undefined): Json {
    const { order, ...attrs } = f;
    const out: JsonObject = { ...attrs, type: this.node(attrs.type, ns) };
    if (order !== undefined && order !== 'ascending') out.order = order;
    return out;
  }
}

export const canonicalForm = (schema: unknown): string =>
  stableStringify(new Canonicalizer().node(schema as Json, undefined));

/**
 * Parses a submitted schema. Only Avro (the lab's events are Avro); an invalid one is Confluent's 42201.
 * Logical types are not registered with avsc on purpose: Avro's Java resolution (Confluent's checker) compares
 * the underlying types, and so does avsc without them; the logicalType attribute stays in text and canonical form.
 */
export function parseAvroSchema(text: string): AvroSchema {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (e) {
    throw new RegistryError(422, 42201, `Invalid schema: not JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
  try {
    const type = avro.Type.forSchema(json as avro.Schema);
    return { text, type, canonical: canonicalForm(json) };
  } catch (e) {
    throw new RegistryError(422, 42201, `Invalid schema: ${(e as Error).message}`, { cause: e });
  }
}
