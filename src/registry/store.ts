import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CompatibilityLevel } from './compatibility';

/** One version of a subject. Soft-deleted versions keep their number and id until deleted permanently. */
export interface VersionEntry {
  version: number;
  id: number;
  deleted?: boolean;
}

export interface SubjectState {
  /** oldest first; version numbers only grow (a soft-deleted version's number is never reused) */
  versions: VersionEntry[];
  compatibility?: CompatibilityLevel;
}

export interface RegistryState {
  /** id → the schema text as first registered under that id; ids are global, one per canonical form */
  schemas: Record<string, string>;
  subjects: Record<string, SubjectState>;
  compatibility: CompatibilityLevel;
  nextId: number;
}

/** State files written before soft deletes kept `versions` as a bare list of ids (version n at index n-1). */
function upgrade(raw: RegistryState): RegistryState {
  for (const sub of Object.values(raw.subjects)) {
    const versions = sub.versions as unknown[];
    sub.versions = versions.map((v, i) =>
      typeof v === 'number' ? { version: i + 1, id: v } : (v as VersionEntry),
    );
  }
  return raw;
}

/**
 * The registry's state in one JSON file, rewritten atomically (temp file + rename) on every change: a registry
 * killed mid-write keeps the previous state, never half of one. Small by nature (a few schemas per subject).
 */
export class FileStore {
  state: RegistryState;

  constructor(private readonly file: string) {
    this.state = fs.existsSync(file)
      ? upgrade(JSON.parse(fs.readFileSync(file, 'utf8')) as RegistryState)
      : { schemas: {}, subjects: {}, compatibility: 'BACKWARD', nextId: 1 };
  }

  save() {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.state, null, 1));
    fs.renameSync(tmp, this.file);
  }
}
