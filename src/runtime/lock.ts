import * as fs from 'node:fs';
import * as path from 'node:path';
import { LabError } from '../lib/errors';

/**
 * One `chaos up`/`down` at a time: two concurrent runs would start and stop the same brokers under each other.
 * The lock holds our pid; a lock left by a dead process is taken over.
 */
export async function withStackLock<T>(runDir: string, what: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, 'stack.lock');
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid} ${what}`, { flag: 'wx' });
      break;
    } catch {
      const [pid, holderWhat] = fs.readFileSync(file, 'utf8').split(' ');
      if (Number(pid) !== process.pid && isAlive(Number(pid)))
        throw new LabError(`another \`chaos ${holderWhat}\` (pid ${pid}) is running: wait for it, or stop it (kill ${pid}) and retry`);
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
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
