import { parseAvroSchema, type AvroSchema } from './avro-schema';
import { checkCompatibility, type CompatibilityLevel } from './compatibility';
import * as errors from './errors';
import type { FileStore, SubjectState, VersionEntry } from './store';

export { RegistryError } from './errors';

/** Confluent's version ids: 1 … 2^31-1, or "latest" (also -1). Anything else is 42202. */
function parseVersion(v: string): number | 'latest' {
  if (v === 'latest' || v === '-1') return 'latest';
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1)
    throw errors.invalidVersion(v);
  return n;
}

/** The registry's state: the store, and the schemas parsed once, by id and by canonical form. */
interface Held {
  store: FileStore;
  parsed: Map<number, AvroSchema>;
  idsByCanonical: Map<string, number>;
}

const st = (h: Held) => h.store.state;

function schemaOf(h: Held, id: number): AvroSchema {
  let p = h.parsed.get(id);
  if (!p) h.parsed.set(id, (p = parseAvroSchema(st(h).schemas[id])));
  return p;
}

function hold(store: FileStore): Held {
  const h: Held = { store, parsed: new Map(), idsByCanonical: new Map() };
  for (const id of Object.keys(st(h).schemas))
    h.idsByCanonical.set(schemaOf(h, Number(id)).canonical, Number(id));
  return h;
}

const levelOf = (h: Held, s: string): CompatibilityLevel =>
  st(h).subjects[s]?.compatibility ?? st(h).compatibility;

const live = (sub: SubjectState | undefined, deleted = false) =>
  (sub?.versions ?? []).filter((v) => deleted || !v.deleted);

/** A subject exists while it has a version; soft-deleted ones count only when the caller asks for them. */
function subject(h: Held, s: string, deleted = false): SubjectState {
  const sub = st(h).subjects[s];
  if (!live(sub, deleted).length) throw errors.subjectNotFound(s);
  return sub;
}

function entry(h: Held, s: string, v: string, deleted = false): VersionEntry {
  const n = parseVersion(v);
  const versions = live(subject(h, s, deleted), deleted);
  const hit = n === 'latest' ? versions.at(-1) : versions.find((e) => e.version === n);
  if (!hit) throw errors.versionNotFound(v);
  return hit;
}

const describe = (h: Held, s: string, e: VersionEntry) => ({
  subject: s,
  version: e.version,
  id: e.id,
  schema: st(h).schemas[e.id],
});

function idFor(h: Held, schema: AvroSchema): number {
  const known = h.idsByCanonical.get(schema.canonical);
  if (known !== undefined) return known;
  const id = st(h).nextId++;
  st(h).schemas[id] = schema.text;
  h.parsed.set(id, schema);
  h.idsByCanonical.set(schema.canonical, id);
  return id;
}

/** Problems of `candidate` against the versions the subject's level requires (all live ones if transitive). */
const problemsAgainst = (
  h: Held,
  s: string,
  candidate: AvroSchema,
  versions: VersionEntry[],
  level = levelOf(h, s),
) =>
  checkCompatibility(
    level,
    candidate.type,
    versions.map((e) => schemaOf(h, e.id).type),
  );

function findIn(h: Held, s: string, canonical: string, deleted = false) {
  return live(st(h).subjects[s], deleted).find((e) => schemaOf(h, e.id).canonical === canonical);
}

function usages(h: Held, id: number, deleted: boolean) {
  const out: { subject: string; version: number }[] = [];
  for (const [s, sub] of Object.entries(st(h).subjects))
    for (const e of live(sub, deleted))
      if (e.id === id) out.push({ subject: s, version: e.version });
  return out;
}

const subjects = (h: Held, deleted: boolean, prefix: string) =>
  Object.keys(st(h).subjects)
    .filter((s) => s.startsWith(prefix) && live(st(h).subjects[s], deleted).length)
    .sort();

function schemaById(h: Held, id: number) {
  // Soft-deleted versions still serve their schema by id: consumers read data written with it.
  if (!Number.isInteger(id) || !st(h).schemas[id] || !usages(h, id, true).length)
    throw errors.schemaNotFound(id);
  return { schema: st(h).schemas[id] };
}

/** Registers a schema under a subject: one already live there returns its id; an incompatible one is 409. */
function register(h: Held, s: string, text: string): { id: number } {
  const schema = parseAvroSchema(text);
  const existing = findIn(h, s, schema.canonical);
  if (existing) return { id: existing.id };
  const sub = st(h).subjects[s] ?? { versions: [] };
  const problems = problemsAgainst(h, s, schema, live(sub));
  if (problems.length) throw errors.incompatible(s, levelOf(h, s), problems);
  const id = idFor(h, schema);
  sub.versions.push({ version: (sub.versions.at(-1)?.version ?? 0) + 1, id });
  st(h).subjects[s] = sub;
  h.store.save();
  return { id };
}

function lookup(h: Held, s: string, text: string, deleted: boolean) {
  const { canonical } = parseAvroSchema(text);
  subject(h, s, deleted);
  const hit = findIn(h, s, canonical, deleted);
  if (!hit) throw errors.schemaNotFound();
  return describe(h, s, hit);
}

/**
 * Confluent (since 6.1): a schema is checked against the versions the level requires, or against one given
 * version (the level's directions, no transitivity). A subject without versions accepts any valid schema
 * against "latest" or all versions; a given version that does not exist is 40402.
 */
function testCompatibility(
  h: Held,
  s: string,
  v: string | undefined,
  text: string,
  verbose: boolean,
) {
  const schema = parseAvroSchema(text);
  const versions = live(st(h).subjects[s]);
  let problems: string[];
  if (v === undefined) problems = problemsAgainst(h, s, schema, versions);
  else {
    const n = parseVersion(v);
    const against = n === 'latest' ? versions.slice(-1) : versions.filter((e) => e.version === n);
    if (n !== 'latest' && !against.length) throw errors.versionNotFound(v);
    const level = levelOf(h, s).replace('_TRANSITIVE', '') as CompatibilityLevel;
    problems = problemsAgainst(h, s, schema, against, level);
  }
  return verbose
    ? { is_compatible: !problems.length, messages: problems }
    : { is_compatible: !problems.length };
}

/** A subject without its own level is 40408 (as Confluent answers), unless the caller asks for the global default. */
function config(h: Held, s: string | undefined, defaultToGlobal: boolean) {
  if (s === undefined) return { compatibilityLevel: st(h).compatibility };
  const level = st(h).subjects[s]?.compatibility;
  if (!level && defaultToGlobal) return { compatibilityLevel: st(h).compatibility };
  if (!level) throw errors.subjectConfigNotFound(s);
  return { compatibilityLevel: level };
}

function setConfig(h: Held, level: CompatibilityLevel, s?: string) {
  if (s === undefined) st(h).compatibility = level;
  else st(h).subjects[s] = { ...(st(h).subjects[s] ?? { versions: [] }), compatibility: level };
  h.store.save();
  return { compatibility: level };
}

/** DELETE /config/{s}: back to the global level; answers the level it removed, 40401 when there was none. */
function deleteConfig(h: Held, s: string) {
  const level = st(h).subjects[s]?.compatibility;
  if (!level) throw errors.subjectNotFound(s);
  delete st(h).subjects[s].compatibility;
  h.store.save();
  return { compatibilityLevel: level };
}

/** Soft delete hides every live version (and drops the subject's level, as Confluent does); permanent removes soft-deleted ones. */
function deleteSubject(h: Held, s: string, permanent: boolean) {
  const sub = subject(h, s, true);
  if (!permanent) {
    const versions = live(sub);
    if (!versions.length) throw errors.subjectSoftDeleted(s);
    for (const e of versions) e.deleted = true;
    delete sub.compatibility;
    h.store.save();
    return versions.map((e) => e.version);
  }
  if (live(sub).length) throw errors.subjectNotSoftDeleted(s);
  const versions = sub.versions.map((e) => e.version);
  delete st(h).subjects[s];
  h.store.save();
  return versions;
}

function deleteVersion(h: Held, s: string, v: string, permanent: boolean) {
  const n = parseVersion(v);
  const sub = subject(h, s, true);
  const hit = n === 'latest' ? live(sub).at(-1) : sub.versions.find((e) => e.version === n);
  if (!hit) throw errors.versionNotFound(v);
  if (!permanent && hit.deleted) throw errors.versionSoftDeleted(s, hit.version);
  if (permanent && !hit.deleted) throw errors.versionNotSoftDeleted(s, hit.version);
  if (permanent) sub.versions = sub.versions.filter((e) => e !== hit);
  else hit.deleted = true;
  if (!sub.versions.length && !sub.compatibility) delete st(h).subjects[s];
  h.store.save();
  return hit.version;
}

/**
 * The subject/version/id model of Confluent's Schema Registry (7.7) with its compatibility rules, soft and
 * permanent deletes. A schema is stored as submitted and served back byte for byte; identity is its canonical form.
 */
export function schemaRegistry(store: FileStore) {
  const h = hold(store);
  return {
    subjects: (deleted = false, prefix = '') => subjects(h, deleted, prefix),
    versions: (s: string, deleted = false) =>
      live(subject(h, s, deleted), deleted).map((e) => e.version),
    version: (s: string, v: string, deleted = false) => describe(h, s, entry(h, s, v, deleted)),
    schemaById: (id: number) => schemaById(h, id),
    subjectVersionsOfId(id: number, deleted = false) {
      schemaById(h, id);
      return usages(h, id, deleted);
    },
    register: (s: string, text: string) => register(h, s, text),
    lookup: (s: string, text: string, deleted = false) => lookup(h, s, text, deleted),
    testCompatibility: (s: string, v: string | undefined, text: string, verbose = false) =>
      testCompatibility(h, s, v, text, verbose),
    config: (s?: string, defaultToGlobal = false) => config(h, s, defaultToGlobal),
    setConfig: (level: CompatibilityLevel, s?: string) => setConfig(h, level, s),
    deleteConfig: (s: string) => deleteConfig(h, s),
    deleteSubject: (s: string, permanent = false) => deleteSubject(h, s, permanent),
    deleteVersion: (s: string, v: string, permanent = false) => deleteVersion(h, s, v, permanent),
  };
}
export type SchemaRegistry = ReturnType<typeof schemaRegistry>;
