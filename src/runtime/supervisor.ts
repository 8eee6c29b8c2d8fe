import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep } from '../lib/wait';

/** What to run. `name` is unique in the lab and names the pidfile and the log file. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** A pidfile: enough to find the process again after the CLI died, and to refuse a recycled pid. */
export interface PidRecord {
  name: string;
  pid: number;
  /** Kernel start time of the process (/proc/<pid>/stat field 22): a reused pid will not match. */
  startTicks: number;
  command: string;
  args: string[];
  logFile: string;
  startedAt: string;
}

/**
 * Runs lab components as detached process groups with pidfiles and log files under .lab/. Stops them by pid
 * only — never by name — and only when the pid still belongs to the process we started.
 */
export class Supervisor {
  constructor(readonly runDir: string, readonly logDir: string) {
    fs.mkdirSync(runDir, { recursive: true });
    fs.mkdirSync(logDir, { recursive: true });
  }

  pidFile(name: string) {
    return path.join(this.runDir, `${name}.json`);
  }
  logFile(name: string) {
    return path.join(this.logDir, `${name}.log`);
  }

  read(name: string): PidRecord | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.pidFile(name), 'utf8')) as PidRecord;
    } catch {
      return undefined; // no pidfile (never started, or stopped): not ours to signal
    }
  }

  /** Every component with a pidfile, alive or not. */
  list(): PidRecord[] {
    if (!fs.existsSync(this.runDir)) return [];
    return fs
      .readdirSync(this.runDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => this.read(f.slice(0, -5)))
      .filter((r): r is PidRecord => !!r);
  }

  isAlive(name: string): boolean {
    const rec = this.read(name);
    return !!rec && isSameProcess(rec);
  }

  start(spec: ProcessSpec): PidRecord {
    const logFile = this.logFile(spec.name);
    const fd = fs.openSync(logFile, 'a');
    fs.writeSync(fd, `\n=== ${new Date().toISOString()} starting ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true, // own process group: stop() signals the whole group, children included
      stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not spawn ${spec.command}`);
    child.unref();
    const rec: PidRecord = {
      name: spec.name,
      pid: child.pid,
      startTicks: startTicks(child.pid) ?? 0,
      command: spec.command,
      args: spec.args,
      logFile,
      startedAt: new Date().toISOString(),
    };
    fs.writeFileSync(this.pidFile(spec.name), JSON.stringify(rec, null, 2));
    return rec;
  }

  /** SIGTERM the group, wait up to `graceMs`, then SIGKILL. Removes the pidfile. Returns whether it was running. */
  async stop(name: string, graceMs = 10_000): Promise<boolean> {
    const rec = this.read(name);
    if (!rec) return false;
    let wasRunning = false;
    if (isSameProcess(rec)) {
      wasRunning = true;
      signalGroup(rec.pid, 'SIGCONT'); // a paused (SIGSTOP) process cannot handle SIGTERM
      signalGroup(rec.pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (isSameProcess(rec) && Date.now() < deadline) await sleep(100);
      if (isSameProcess(rec)) signalGroup(rec.pid, 'SIGKILL');
      while (isSameProcess(rec)) await sleep(50);
    }
    // A group may outlive its leader (e.g. a shell wrapper's children); finish it off — but only when the pid
    // is ours or free: a recycled pid now belongs to someone else, and so may its group.
    if (wasRunning || !pidExists(rec.pid)) signalGroup(rec.pid, 'SIGKILL');
    // Only remove the pidfile if it is still the one we read: a concurrent start may have replaced it.
    if (this.read(name)?.pid === rec.pid) fs.rmSync(this.pidFile(name), { force: true });
    return wasRunning;
  }

  /** kill -9 / SIGSTOP / SIGCONT of a running component, for faults. */
  signal(name: string, sig: NodeJS.Signals): boolean {
    const rec = this.read(name);
    if (!rec || !isSameProcess(rec)) return false;
    process.kill(rec.pid, sig);
    return true;
  }

  logTail(name: string, lines = 30): string {
    return tailFile(this.logFile(name), lines);
  }
}

export function tailFile(file: string, lines = 30): string {
  try {
    const buf = fs.readFileSync(file, 'utf8');
    return buf.split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)'; // said in the output where the log would be: a process that never wrote one
  }
}

function pidExists(pid: number): boolean {
  return fs.existsSync(`/proc/${pid}`);
}

function signalGroup(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(-pid, sig);
  } catch {
    /* group already gone */
  }
}

export function startTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces; fields after the closing paren are space separated.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[19]);
  } catch {
    return undefined; // the process is gone: no start time to compare
  }
}

/** True if `rec.pid` is alive, not a zombie, and is the very process we started (same kernel start time). */
export function isSameProcess(rec: PidRecord): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${rec.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    if (state === 'Z' || state === 'X') return false;
  } catch {
    return false; // no /proc entry: not alive
  }
  return rec.startTicks === 0 || startTicks(rec.pid) === rec.startTicks;
}

/** Resident memory of a process and its descendants, in KiB. */
export function rssKiB(pid: number): number {
  let total = 0;
  const walk = (p: number) => {
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+)/.exec(status);
      if (m) total += Number(m[1]);
      const children = fs.readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      if (children) for (const c of children.split(/\s+/)) walk(Number(c));
    } catch {
      /* gone */
    }
  };
  walk(pid);
  return total;
}
