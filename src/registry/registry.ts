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

/**
 * The subject/version/id model of Confluent's Schema Registry (7.7) with its compatibility rules, soft and
 * permanent deletes. A schema is stored as submitted and served back byte for byte; identity is its canonical form.
 */
export function schemaRegistry(store: FileStore) {
  const st = () => store.state;
  const parsed = new Map<number, AvroSchema>();
  const schemaOf = (id: number) => {
    let p = parsed.get(id);
    if (!p) parsed.set(id, (p = parseAvroSchema(st().schemas[id])));
    return p;
  };
  const idsByCanonical = new Map(
    Object.keys(st().schemas).map((id) => [schemaOf(Number(id)).canonical, Number(id)]),
  );
  const levelOf = (s: string): CompatibilityLevel =>
    st().subjects[s]?.compatibility ?? st().compatibility;
  const live = (sub: SubjectState | undefined, deleted = false) =>
    (sub?.versions ?? []).filter((v) => deleted || !v.deleted);

  /** A subject exists while it has a version; soft-deleted ones count only when the caller asks for them. */
  function subject(s: string, deleted = false): SubjectState {
    const sub = st().subjects[s];
    if (!live(sub, deleted).length) throw errors.subjectNotFound(s);
    return sub;
  }

  function entry(s: string, v: string, deleted = false): VersionEntry {
    const n = parseVersion(v);
    const versions = live(subject(s, deleted), deleted);
    const hit = n === 'latest' ? versions.at(-1) : versions.find((e) => e.version === n);
    if (!hit) throw errors.versionNotFound(v);
    return hit;
  }

  const describe = (s: string, e: VersionEntry) => ({
    subject: s,
    version: e.version,
    id: e.id,
    schema: st().schemas[e.id],
  });

  function idFor(schema: AvroSchema): number {
    const known = idsByCanonical.get(schema.canonical);
    if (known !== undefined) return known;
    const id = st().nextId++;
    st().schemas[id] = schema.text;
    parsed.set(id, schema);
    idsByCanonical.set(schema.canonical, id);
    return id;
  }

  /** Problems of `candidate` against the versions the subject's level requires (all live ones if transitive). */
  const problemsAgainst = (
    s: string,
    candidate: AvroSchema,
    versions: VersionEntry[],
    level = levelOf(s),
  ) =>
    checkCompatibility(
      level,
      candidate.type,
      versions.map((e) => schemaOf(e.id).type),
    );

  function findIn(s: string, canonical: string, deleted = false) {
    return live(st().subjects[s], deleted).find((e) => schemaOf(e.id).canonical === canonical);
  }

  function usages(id: number, deleted: boolean) {
    const out: { subject: string; version: number }[] = [];
    for (const [s, sub] of Object.entries(st().subjects))
      for (const e of live(sub, deleted))
        if (e.id === id) out.push({ subject: s, version: e.version });
    return out;
  }

  return {
    subjects: (deleted = false, prefix = '') =>
      Object.keys(st().subjects)
        .filter((s) => s.startsWith(prefix) && live(st().subjects[s], deleted).length)
        .sort(),
    versions: (s: string, deleted = false) =>
      live(subject(s, deleted), deleted).map((e) => e.version),
    version: (s: string, v: string, deleted = false) => describe(s, entry(s, v, deleted)),
    schemaById(id: number) {
      // Soft-deleted versions still serve their schema by id: consumers read data written with it.
      if (!Number.isInteger(id) || !st().schemas[id] || !usages(id, true).length)
        throw errors.schemaNotFound(id);
      return { schema: st().schemas[id] };
    },
    subjectVersionsOfId(id: number, deleted = false) {
      this.schemaById(id);
      return usages(id, deleted);
    },
    /** Registers a schema under a subject: one already live there returns its id; an incompatible one is 409. */
    register(s: string, text: string): { id: number } {
      const schema = parseAvroSchema(text);
      const existing = findIn(s, schema.canonical);
      if (existing) return { id: existing.id };
      const sub = st().subjects[s] ?? { versions: [] };
      const problems = problemsAgainst(s, schema, live(sub));
      if (problems.length) throw errors.incompatible(s, levelOf(s), problems);
      const id = idFor(schema);
      sub.versions.push({ version: (sub.versions.at(-1)?.version ?? 0) + 1, id });
      st().subjects[s] = sub;
      store.save();
      return { id };
    },
    lookup(s: string, text: string, deleted = false) {
      const { canonical } = parseAvroSchema(text);
      subject(s, deleted);
      const hit = findIn(s, canonical, deleted);
      if (!hit) throw errors.schemaNotFound();
      return describe(s, hit);
    },
    /**
     * Confluent (since 6.1): a schema is checked against the versions the level requires, or against one given
     * version (the level's directions, no transitivity). A subject without versions accepts any valid schema
     * against "latest" or all versions; a given version that does not exist is 40402.
     */
    testCompatibility(s: string, v: string | undefined, text: string, verbose = false) {
      const schema = parseAvroSchema(text);
      const versions = live(st().subjects[s]);
      let problems: string[];
      if (v === undefined) problems = problemsAgainst(s, schema, versions);
      else {
        const n = parseVersion(v);
        const against =
          n === 'latest' ? versions.slice(-1) : versions.filter((e) => e.version === n);
        if (n !== 'latest' && !against.length) throw errors.versionNotFound(v);
        problems = problemsAgainst(
          s,
          schema,
          against,
          levelOf(s).replace('_TRANSITIVE', '') as CompatibilityLevel,
        );
      }
      return verbose
        ? { is_compatible: !problems.length, messages: problems }
        : { is_compatible: !problems.length };
    },
    /** A subject without its own level is 40408 (as Confluent answers), unless the caller asks for the global default. */
    config(s?: string, defaultToGlobal = false) {
      if (s === undefined) return { compatibilityLevel: st().compatibility };
      const level = st().subjects[s]?.compatibility;
      if (!level && defaultToGlobal) return { compatibilityLevel: st().compatibility };
      if (!level) throw errors.subjectConfigNotFound(s);
      return { compatibilityLevel: level };
    },
    setConfig(level: CompatibilityLevel, s?: string) {
      if (s === undefined) st().compatibility = level;
      else st().subjects[s] = { ...(st().subjects[s] ?? { versions: [] }), compatibility: level };
      store.save();
      return { compatibility: level };
    },
    /** DELETE /config/{s}: back to the global level; answers the level it removed, 40401 when there was none. */
    deleteConfig(s: string) {
      const level = st().subjects[s]?.compatibility;
      if (!level) throw errors.subjectNotFound(s);
      delete st().subjects[s].compatibility;
      store.save();
      return { compatibilityLevel: level };
    },
    /** Soft delete hides every live version (and drops the subject's level, as Confluent does); permanent removes soft-deleted ones. */
    deleteSubject(s: string, permanent = false) {
      const sub = subject(s, true);
      if (!permanent) {
        const versions = live(sub);
        if (!versions.length) throw errors.subjectSoftDeleted(s);
        for (const e of versions) e.deleted = true;
        delete sub.compatibility;
        store.save();
        return versions.map((e) => e.version);
      }
      if (live(sub).length) throw errors.subjectNotSoftDeleted(s);
      const versions = sub.versions.map((e) => e.version);
      delete st().subjects[s];
      store.save();
      return versions;
    },
    deleteVersion(s: string, v: string, permanent = false) {
      const n = parseVersion(v);
      const sub = subject(s, true);
      const hit = n === 'latest' ? live(sub).at(-1) : sub.versions.find((e) => e.version === n);
      if (!hit) throw errors.versionNotFound(v);
      if (!permanent && hit.deleted) throw errors.versionSoftDeleted(s, hit.version);
      if (permanent && !hit.deleted) throw errors.versionNotSoftDeleted(s, hit.version);
      if (permanent) sub.versions = sub.versions.filter((e) => e !== hit);
      else hit.deleted = true;
      if (!sub.versions.length && !sub.compatibility) delete st().subjects[s];
      store.save();
      return hit.version;
    },
  };
}
export type SchemaRegistry = ReturnType<typeof schemaRegistry>;
