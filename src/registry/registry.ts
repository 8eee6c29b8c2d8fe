import * as avro from 'avsc';
import { checkCompatibility, type CompatibilityLevel } from './compatibility';
import type { FileStore } from './store';

/** An error the REST layer turns into Confluent's `{error_code, message}` with this HTTP status. */
export class RegistryError extends Error {
  constructor(readonly status: number, readonly errorCode: number, message: string) {
    super(message);
  }
}

const subjectNotFound = (s: string) => new RegistryError(404, 40401, `Subject '${s}' not found.`);

/** Avro only: the lab's events are Avro. Canonical form, so whitespace or key order never make a new version. */
function parseAvro(text: string): { type: avro.Type; canonical: string } {
  try {
    const type = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
    return { type, canonical: JSON.stringify(type.schema()) };
  } catch (e) {
    throw new RegistryError(422, 42201, `Invalid schema: ${(e as Error).message}`);
  }
}

/** The subject/version/id model of Confluent's Schema Registry, with its compatibility rules. */
export function schemaRegistry(store: FileStore) {
  const st = () => store.state;
  const subject = (s: string) => {
    const sub = st().subjects[s];
    if (!sub || !sub.versions.length) throw subjectNotFound(s);
    return sub;
  };
  const typeOf = (id: number) => avro.Type.forSchema(JSON.parse(st().schemas[id]) as avro.Schema);
  const levelOf = (s: string): CompatibilityLevel => st().subjects[s]?.compatibility ?? st().compatibility;

  function versionOf(s: string, v: string) {
    const sub = subject(s);
    const n = v === 'latest' || v === '-1' ? sub.versions.length : Number(v);
    if (!Number.isInteger(n) || n < 1 || n > sub.versions.length) throw new RegistryError(404, 40402, `Version ${v} not found.`);
    const id = sub.versions[n - 1];
    return { subject: s, version: n, id, schema: st().schemas[id] };
  }

  function idFor(canonical: string): number {
    const hit = Object.entries(st().schemas).find(([, text]) => text === canonical);
    if (hit) return Number(hit[0]);
    const id = st().nextId++;
    st().schemas[id] = canonical;
    return id;
  }

  return {
    subjects: () => Object.keys(st().subjects).filter((s) => st().subjects[s].versions.length),
    versions: (s: string) => subject(s).versions.map((_, i) => i + 1),
    version: versionOf,
    schemaById(id: number) {
      const text = st().schemas[id];
      if (!text) throw new RegistryError(404, 40403, `Schema ${id} not found`);
      return { schema: text };
    },
    /** Registers a schema under a subject: the same schema again returns its id; an incompatible one is 409. */
    register(s: string, text: string): { id: number } {
      const { type, canonical } = parseAvro(text);
      const sub = st().subjects[s] ?? { versions: [] };
      const existing = sub.versions.find((id) => st().schemas[id] === canonical);
      if (existing !== undefined) return { id: existing };
      const problems = checkCompatibility(levelOf(s), type, sub.versions.map(typeOf));
      if (problems.length) throw new RegistryError(409, 409, `Schema being registered is incompatible with an earlier schema for subject "${s}" (compatibility ${levelOf(s)}): ${problems.join('; ')}`);
      const id = idFor(canonical);
      sub.versions.push(id);
      st().subjects[s] = sub;
      store.save();
      return { id };
    },
    lookup(s: string, text: string) {
      const { canonical } = parseAvro(text);
      const sub = subject(s);
      const i = sub.versions.findIndex((id) => st().schemas[id] === canonical);
      if (i < 0) throw new RegistryError(404, 40403, 'Schema not found');
      return { subject: s, version: i + 1, id: sub.versions[i], schema: canonical };
    },
    testCompatibility(s: string, v: string, text: string) {
      const { type } = parseAvro(text);
      const against = st().subjects[s]?.versions.length ? [typeOf(versionOf(s, v).id)] : [];
      // Against one given version: the level's direction(s), without its transitivity.
      return { is_compatible: checkCompatibility(levelOf(s).replace('_TRANSITIVE', '') as CompatibilityLevel, type, against).length === 0 };
    },
    /** A subject without its own level is 404 (as Confluent answers), unless the caller asks for the global default. */
    config(s?: string, defaultToGlobal = false) {
      if (s === undefined) return { compatibilityLevel: st().compatibility };
      const level = st().subjects[s]?.compatibility;
      if (!level && defaultToGlobal) return { compatibilityLevel: st().compatibility };
      if (!level) throw new RegistryError(404, 40408, `Subject '${s}' does not have subject-level compatibility configured`);
      return { compatibilityLevel: level };
    },
    setConfig(level: CompatibilityLevel, s?: string) {
      if (s === undefined) st().compatibility = level;
      else st().subjects[s] = { ...(st().subjects[s] ?? { versions: [] }), compatibility: level };
      store.save();
      return { compatibility: level };
    },
    deleteSubject(s: string) {
      const versions = subject(s).versions.map((_, i) => i + 1);
      delete st().subjects[s];
      store.save();
      return versions;
    },
  };
}
export type SchemaRegistry = ReturnType<typeof schemaRegistry>;
