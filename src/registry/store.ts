import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CompatibilityLevel } from './compatibility';

export interface SubjectState {
  /** schema ids, version n at index n-1 */
  versions: number[];
  compatibility?: CompatibilityLevel;
}

export interface RegistryState {
  /** id → canonical schema text; ids are global, one per distinct schema, as in Confluent's registry */
  schemas: Record<string, string>;
  subjects: Record<string, SubjectState>;
  compatibility: CompatibilityLevel;
  nextId: number;
}

/**
 * The registry's state in one JSON file, rewritten atomically (temp file + rename) on every change: a registry
 * killed mid-write keeps the previous state, never half of one. Small by nature (a few schemas per subject).
 */
export class FileStore {
  state: RegistryState;

  constructor(private readonly file: string) {
    this.state = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as RegistryState) : { schemas: {}, subjects: {}, compatibility: 'BACKWARD', nextId: 1 };
  }

  save() {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.state, null, 1));
    fs.renameSync(tmp, this.file);
  }
}
