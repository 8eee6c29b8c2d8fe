import * as fs from 'node:fs';
import * as path from 'node:path';
import { labPaths, type LabConfig } from '../lib/config';
import type { Progress } from './progress';

/**
 * What `chaos exp run` is doing, one JSON object per line in .lab/run/exp-progress.jsonl: the lab UI tails this
 * file, so a run started from the CLI shows live in the UI exactly like one the UI started (which runs the same
 * CLI). The file is rewritten at each run's start; it is a view, the journal.json of each side is the record.
 */
export type RunEvent =
  | { type: 'start'; pid: number; what: string; experiments: string[]; seed: number }
  | { type: 'side'; id: string; side?: string; title: string }
  | { type: 'step'; message: string; kind?: string }
  | { type: 'done'; message: string; seconds: number }
  | {
      type: 'verdict';
      id: string;
      side?: string;
      runId: string;
      outcome: string;
      expected: string;
      headline: string;
      probes: {
        name: string;
        ok: boolean;
        expected: string;
        observed: number | null;
        inconclusive?: boolean;
      }[];
      figures: Record<string, number>;
      /** why the lab could not tell, when the outcome is inconclusive */
      inconclusive?: string[];
      report?: string;
    }
  | { type: 'pair'; id: string; outcome: string; report: string }
  | { type: 'end'; exitCode: number; reports: string[]; error?: string };

export type RunEventAt = RunEvent & { at: string };

export const progressJournalFile = (c: LabConfig) => path.join(labPaths(c).run, 'exp-progress.jsonl');

/** Appends events to the journal; a write that fails (disk full) never stops the run it describes. */
export function progressJournal(file: string) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const write = (e: RunEvent, flag: 'w' | 'a') => {
    try {
      fs.writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...e })}\n`, {
        flag,
      });
    } catch {
      // best effort: the UI shows less, the run goes on
    }
  };
  return {
    /** the first event of a run: starts the file afresh */
    start: (e: Extract<RunEvent, { type: 'start' }>) => write(e, 'w'),
    emit: (e: RunEvent) => write(e, 'a'),
    progress: {
      step: (message: string, kind?: string) =>
        write({ type: 'step', message, ...(kind ? { kind } : {}) }, 'a'),
      done: (message: string, startedAt: number) =>
        write({ type: 'done', message, seconds: (Date.now() - startedAt) / 1000 }, 'a'),
    } satisfies Progress,
  };
}

/** Every progress line to each sink: stderr for the terminal, the journal for the UI. */
export const teeProgress = (...sinks: Progress[]): Progress => ({
  step: (m, kind) => sinks.forEach((s) => s.step(m, kind)),
  done: (m, t0) => sinks.forEach((s) => s.done(m, t0)),
});

/** The events in the journal from byte `offset` on, and the offset after the last complete line. */
export function readRunEvents(file: string, offset = 0): { events: RunEventAt[]; offset: number; reset: boolean } {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    // No journal yet (no run started since `chaos up`): nothing to show; a reader past 0 starts over.
    return { events: [], offset: 0, reset: offset > 0 };
  }
  const reset = size < offset; // a new run started the file afresh
  const from = reset ? 0 : offset;
  if (size === from) return { events: [], offset: from, reset };
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - from);
    fs.readSync(fd, buf, 0, buf.length, from);
    const text = buf.toString('utf8');
    const end = text.lastIndexOf('\n') + 1; // a line being written is read next time
    const events = text
      .slice(0, end)
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as RunEventAt];
        } catch {
          return []; // not a whole JSON line (the writer appends it in one call; a foreign line is skipped)
        }
      });
    return { events, offset: from + Buffer.byteLength(text.slice(0, end)), reset };
  } finally {
    fs.closeSync(fd);
  }
}
