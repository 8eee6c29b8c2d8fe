import { spawn } from 'node:child_process';
import type { Progress } from '../progress';

/** How far a provisioning command got: `done` of `total` units (total unknown → counts without an ETA). */
export interface Count {
  done: number;
  total?: number;
  /** already done before the command started (cached jars): counted, but not in the rate */
  from?: number;
}

/**
 * "Kafka jars: 37 of 104 jars, ETA 21 s". The rate is measured from the start of the command, so the first line
 * has no ETA; a count past its total (a cache we could not see) shows the count alone rather than a wrong ETA.
 */
export function progressLine(label: string, unit: string, count: Count, startedAt: number, now: number): string {
  const { done, total, from = 0 } = count;
  const elapsed = (now - startedAt) / 1000;
  if (total === undefined || done > total) return `${label}: ${done} ${unit}, ${elapsed.toFixed(0)} s`;
  const rate = (done - from) / elapsed;
  const eta = rate > 0 && done < total && elapsed >= 1 ? `, ETA ${Math.ceil((total - done) / rate)} s` : '';
  return `${label}: ${done} of ${total} ${unit}${eta}`;
}

export interface TrackedCommand {
  cmd: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** e.g. "Kafka jars" */
  label: string;
  unit: string;
  /** reads one output line (stdout or stderr) into the running count */
  onLine(line: string, count: Count): void;
  total?: number;
  /** units already done when the command starts */
  from?: number;
  /** a progress line at most this often (and one when the command ends) */
  everyMs?: number;
}

export class TrackedCommandError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/**
 * Runs a long provisioning command (apt-get, mvn, go build) and reports its progress with counts and an ETA on
 * the lab's Progress (stderr), so `--json` stays clean. Bounded: the child is killed at `timeoutMs`.
 * Resolves with the whole output, which callers search for the error to show.
 */
export function runTracked(t: TrackedCommand, progress: Progress): Promise<string> {
  const startedAt = Date.now();
  const count: Count = { done: t.from ?? 0, total: t.total, from: t.from };
  let output = '';
  let lastShown = 0;
  const show = (force = false) => {
    const now = Date.now();
    if (!force && now - lastShown < (t.everyMs ?? 3000)) return;
    lastShown = now;
    progress.step(progressLine(t.label, t.unit, count, startedAt, now));
  };
  return new Promise((resolve, reject) => {
    const child = spawn(t.cmd, t.args, { cwd: t.cwd, env: t.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), t.timeoutMs);
    // A quiet stretch (a big download) still gets a line with the time spent.
    const ticker = setInterval(() => show(), t.everyMs ?? 3000);
    const reader = () => {
      let partial = '';
      return (chunk: Buffer) => {
        const text = partial + chunk.toString('utf8');
        output += chunk.toString('utf8');
        const lines = text.split(/\r?\n/);
        partial = lines.pop() ?? '';
        for (const line of lines) t.onLine(line, count);
        show();
      };
    };
    child.stdout.on('data', reader());
    child.stderr.on('data', reader());
    child.on('error', (e) => {
      clearTimeout(timer);
      clearInterval(ticker);
      reject(new TrackedCommandError(`${t.cmd} could not start: ${e.message}`, output));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(ticker);
      if (code === 0) {
        if (count.done > (t.from ?? 0)) show(true);
        resolve(output);
      } else {
        const why = signal === 'SIGKILL' && Date.now() - startedAt >= t.timeoutMs ? `timed out after ${t.timeoutMs / 1000} s` : signal ? `killed by ${signal}` : `exit code ${code}`;
        reject(new TrackedCommandError(`${t.cmd} ${t.args.slice(0, 3).join(' ')}… failed (${why})`, output));
      }
    });
  });
}
