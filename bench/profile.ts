import * as fs from 'node:fs';

interface ProfNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a sample's code lives: a package, our code, Node internals, or V8's pseudo-frames ((idle), GC). */
function category(url: string, fn: string): string {
  if (!url) return fn || '(anonymous)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/dist/src/')) return 'lab code (dist/src)';
  return url.split('/').slice(-2).join('/');
}

export interface ProfileSummary {
  totalMs: number;
  byCategory: { name: string; pct: number }[];
  topFunctions: { name: string; pct: number }[];
}

/** Self time per category and per function, from a .cpuprofile (samples × their time deltas). */
export function summarizeProfile(file: string, top = 8): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const cat = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const n = byId.get(id);
    if (!n) return;
    total += dt;
    const { functionName, url, lineNumber } = n.callFrame;
    const c = category(url, functionName);
    cat.set(c, (cat.get(c) ?? 0) + dt);
    const f = url
      ? `${functionName || '(anon)'} ${url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${lineNumber + 1}`
      : functionName;
    fns.set(f, (fns.get(f) ?? 0) + dt);
  });
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, t]) => ({ name, pct: (100 * t) / (total || 1) }));
  return { totalMs: total / 1000, byCategory: rank(cat), topFunctions: rank(fns) };
}

export const profileText = (s: ProfileSummary) =>
  `${(s.totalMs / 1000).toFixed(1)} s sampled; self time by category: ${s.byCategory.map((c) => `${c.name} ${c.pct.toFixed(0)} %`).join(', ')}\n` +
  `  top functions: ${s.topFunctions.map((f) => `${f.name} ${f.pct.toFixed(1)} %`).join('; ')}`;

/** CPU ticks (user + system) a process has used so far, from /proc/<pid>/stat; 0 once it is gone. */
function processTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 on; comm may hold spaces
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** Busy and idle ticks of the whole box, from the first line of /proc/stat. */
function boxTicks(): { busy: number; idle: number } {
  const f = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const idle = f[3] + (f[4] ?? 0);
  return { busy: f.reduce((a, b) => a + b, 0) - idle, idle };
}

/**
 * Where the box's CPU went while `fn` ran, per named process (the stack's components, the service under test, the
 * bench itself), as shares of the box's total CPU time; "idle" is what nobody used. A process profile alone says
 * only that a service waits; this says on whom.
 */
export async function boxCpu<T>(
  pids: () => Record<string, number>,
  fn: () => Promise<T>,
): Promise<{ result: T; shares: { name: string; pct: number }[] }> {
  const named = pids();
  const before = Object.fromEntries(
    Object.entries(named).map(([n, pid]) => [n, processTicks(pid)]),
  );
  const box0 = boxTicks();
  const result = await fn();
  const after = { ...named, ...pids() }; // the service under test may only have started inside fn
  const box1 = boxTicks();
  const total = box1.busy - box0.busy + (box1.idle - box0.idle);
  const shares = Object.entries(after).map(([name, pid]) => ({
    name,
    pct: (100 * (processTicks(pid) - (before[name] ?? 0))) / Math.max(1, total),
  }));
  const others =
    100 * ((box1.busy - box0.busy) / Math.max(1, total)) - shares.reduce((a, s) => a + s.pct, 0);
  shares.push(
    { name: 'other processes', pct: Math.max(0, others) },
    { name: 'idle', pct: (100 * (box1.idle - box0.idle)) / Math.max(1, total) },
  );
  return { result, shares: shares.filter((s) => s.pct >= 0.5).sort((a, b) => b.pct - a.pct) };
}

export const sharesText = (shares: { name: string; pct: number }[]) =>
  shares.map((s) => `${s.name} ${s.pct.toFixed(0)} %`).join(', ');
