import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../lib/errors';

/** Who holds the stack lock: its pid and what it runs (`up`, `down`, `exp run E-002 --seed 42`). */
export interface LockHolder {
  pid: number;
  what: string;
}

const lockFile = (runDir: string) => path.join(runDir, 'stack.lock');

/** The live holder of the stack lock, if any (a lock left by a dead process holds nothing). */
export function stackLockHolder(runDir: string): LockHolder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(lockFile(runDir), 'utf8');
  } catch {
    return undefined; // no lock file: nobody holds the lock
  }
  const [pid, ...what] = text.split(' ');
  return isAlive(Number(pid)) ? { pid: Number(pid), what: what.join(' ') } : undefined;
}

/** The refusal every lock taker gives: the command verb first, so callers can match "another `chaos <verb>`". */
export function lockHeldError(holder: LockHolder): LabError {
  const [verb, ...rest] = holder.what.split(' ');
  const detail = rest.length ? ` (${holder.what})` : '';
  return new LabError(
    `another \`chaos ${verb}\` (pid ${holder.pid})${detail} is running: wait for it, or stop it (kill -INT ${holder.pid}) and retry`,
  );
}

/**
 * One `chaos up`/`down`/`exp run` at a time: two concurrent runs would start and stop the same brokers under each
 * other. The lock holds our pid; a lock left by a dead process is taken over. Re-entrant: `exp run` holds it for the
 * whole run and calls `up` inside.
 */
export async function withStackLock<T>(
  runDir: string,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  fs.mkdirSync(runDir, { recursive: true });
  const file = lockFile(runDir);
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid} ${what}`, { flag: 'wx' });
      break;
    } catch {
      // The file exists (wx): a live holder, or a stale file of a dead one that is removed before retrying.
      const holder = stackLockHolder(runDir);
      if (holder?.pid === process.pid) return fn(); // ours already: the outer taker releases it
      if (holder) throw lockHeldError(holder);
      fs.rmSync(file, { force: true });
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // EPERM: alive, another user's; ESRCH: gone
  }
}
