import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { labPaths, type LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';
import { findExperiment, loadExperimentFile, sidesOf } from '../experiments/loader';
import { SIDES } from '../experiments/schema';
import { lockHeldError, stackLockHolder, type LockHolder } from '../runtime/lock';
import { progressJournalFile, readRunEvents, type RunEventAt } from '../runtime/progress-journal';

/** POST /api/runs: an experiment id (no path: the UI runs the lab's own files), both sides or one, a seed. */
export const StartRequest = z
  .object({
    id: z.string().regex(/^[A-Za-z]-\d{3}$/, 'expected an experiment id like E-002'),
    side: z.enum(['both', ...SIDES]).default('both'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
  })
  .strict();
export type StartRequest = z.infer<typeof StartRequest>;

/** A refusal the client can fix (400) or must wait out (409): the message is the one the CLI gives. */
export class RunRequestError extends LabError {
  constructor(
    message: string,
    readonly status: 400 | 409,
  ) {
    super(message);
  }
}

export interface RunState {
  /** the live holder of the stack lock: a run (from the UI or a terminal), or `chaos up`/`down` */
  holder: LockHolder | null;
  running: boolean;
  /** the run the UI started, while it lasts */
  started: { pid: number; args: string[]; log: string } | null;
}

/**
 * Runs experiments from the UI through the CLI itself (`chaos exp run <id> --json`, a child process) rather than
 * calling the engine in the UI's process: the same stack lock, the same SIGINT handling (interrupt → rollbacks,
 * recorded), the same reports, and a UI restart does not kill a run. The child writes .lab/run/exp-progress.jsonl
 * like any `chaos exp run`, which is how the UI watches runs started from a terminal, too.
 */
export class RunControl {
  private child: { pid: number; args: string[]; log: string } | undefined;

  constructor(
    private readonly c: LabConfig,
    private readonly reportsDir: string,
  ) {}

  state(): RunState {
    const holder = stackLockHolder(labPaths(this.c).run) ?? null;
    return {
      holder,
      running: !!this.child || !!holder?.what.startsWith('exp run'),
      started: this.child ?? null,
    };
  }

  /** Validates as the CLI does (same loader, same messages), refuses while anything holds the lock, spawns the run. */
  start(body: unknown): { pid: number; args: string[]; reportDir: string } {
    const parsed = StartRequest.safeParse(body ?? {});
    if (!parsed.success)
      throw new RunRequestError(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
        400,
      );
    const r = parsed.data;
    const only = r.side === 'both' ? undefined : r.side;
    try {
      const f = findExperiment(this.c.root, r.id);
      for (const side of only ? [only] : sidesOf(f.file))
        loadExperimentFile(f.file, process.env, side);
    } catch (e) {
      throw new RunRequestError((e as Error).message, 400);
    }
    const holder = stackLockHolder(labPaths(this.c).run);
    if (holder) throw new RunRequestError(lockHeldError(holder).message, 409);
    if (this.child)
      throw new RunRequestError(
        `a run started from the UI (pid ${this.child.pid}) is still starting`,
        409,
      );
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const reportDir = path.join(this.reportsDir, `${r.id.toLowerCase()}-s${r.seed}-ui-${stamp}`);
    fs.mkdirSync(reportDir, { recursive: true });
    const args = [
      'exp',
      'run',
      r.id.toUpperCase(),
      '--seed',
      String(r.seed),
      '--report',
      reportDir,
    ];
    if (only) args.push('--side', only);
    args.push('--json');
    const log = path.join(reportDir, 'ui-run.log');
    const out = fs.openSync(log, 'a');
    // Its own process group, output to a file: it outlives the UI, and the UI's exit does not interrupt it.
    const child = spawn(process.execPath, [path.join(this.c.root, 'bin', 'run.js'), ...args], {
      cwd: this.c.root,
      env: process.env,
      stdio: ['ignore', out, out],
      detached: true,
    });
    fs.closeSync(out);
    if (child.pid === undefined) throw new LabError(`could not start chaos ${args.join(' ')}`);
    const started = { pid: child.pid, args, log };
    this.child = started;
    child.once('exit', () => {
      if (this.child === started) this.child = undefined;
    });
    child.unref();
    return { pid: child.pid, args, reportDir };
  }

  /**
   * Ctrl-C for the run holding the lock, whoever started it: SIGINT, which the CLI answers by stopping at the next
   * step and running every rollback. Anything else holding the lock (`up`, `down`) is not ours to stop.
   */
  stop(): { pid: number; what: string } {
    const holder = stackLockHolder(labPaths(this.c).run);
    const target =
      holder ?? (this.child && { pid: this.child.pid, what: this.child.args.join(' ') });
    if (!target) throw new RunRequestError('no experiment is running', 409);
    if (!target.what.startsWith('exp run'))
      throw new RunRequestError(
        `the stack lock is held by \`chaos ${target.what}\` (pid ${target.pid}), not by a run: wait for it`,
        409,
      );
    process.kill(target.pid, 'SIGINT');
    return target;
  }

  /** The current (or last) run's events from byte `offset` of the progress journal. */
  events(offset: number): { events: RunEventAt[]; offset: number; reset: boolean } {
    return readRunEvents(progressJournalFile(this.c), offset);
  }
}
