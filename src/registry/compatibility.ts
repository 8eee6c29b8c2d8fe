import * as avro from 'avsc';

/** Confluent's compatibility levels. BACKWARD is its default, and ours. */
export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/**
 * Can data written with `writer` be read with `reader`? Avro's schema resolution decides (avsc's resolver), with
 * names compared without their namespace, as Avro's Java SchemaCompatibility (Confluent's checker) does: a record
 * named a.R reads b.R; a reader's aliases still count.
 */
export function canRead(
  reader: avro.Type,
  writer: avro.Type,
): { ok: true } | { ok: false; reason: string } {
  try {
    reader.createResolver(writer, { ignoreNamespaces: true });
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/**
 * Checks a new schema against the subject's existing versions (oldest first) as the level says:
 * BACKWARD = the new schema reads the latest version's data (consumers upgrade first), FORWARD = the latest
 * reads the new one's (producers upgrade first), FULL = both; *_TRANSITIVE = against every version, not just the latest.
 */
export function checkCompatibility(
  level: CompatibilityLevel,
  candidate: avro.Type,
  existing: avro.Type[],
): string[] {
  if (level === 'NONE' || !existing.length) return [];
  const against = level.endsWith('_TRANSITIVE') ? existing : existing.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const old of against) {
    if (backward) {
      const r = canRead(candidate, old);
      if (!r.ok)
        problems.push(
          `the new schema cannot read data written with an earlier one (BACKWARD): ${r.reason}`,
        );
    }
    if (forward) {
      const r = canRead(old, candidate);
      if (!r.ok)
        problems.push(
          `an earlier schema cannot read data written with the new one (FORWARD): ${r.reason}`,
        );
    }
  }
  return problems;
}
