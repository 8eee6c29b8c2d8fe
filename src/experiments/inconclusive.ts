import { LabError } from '../lib/errors';

/**
 * The lab could not tell (Jepsen's `:unknown`): a read the verdict needs failed, a wait timed out, a fault never
 * took effect. Thrown where going on is pointless (the audit could not read the topic); elsewhere the reason is
 * recorded and the run is judged, but it ends `inconclusive` — never `completed` nor `deviated`.
 */
export class Inconclusive extends LabError {
  constructor(reason: string, cause?: unknown) {
    super(reason, { cause, exitCode: 5 });
  }
}

/** A read the verdict depends on: its failure makes the run inconclusive, with what could not be read and why. */
export async function mustRead<T>(what: string, read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (err) {
    throw new Inconclusive(`${what} could not be read: ${(err as Error).message}`, err);
  }
}
