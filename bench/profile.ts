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
    const f = url ? `${functionName || '(anon)'} ${url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${lineNumber + 1}` : functionName;
    fns.set(f, (fns.get(f) ?? 0) + dt);
  });
  const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, t]) => ({ name, pct: (100 * t) / (total || 1) }));
  return { totalMs: total / 1000, byCategory: rank(cat), topFunctions: rank(fns) };
}

export const profileText = (s: ProfileSummary) =>
  `${(s.totalMs / 1000).toFixed(1)} s sampled; self time by category: ${s.byCategory.map((c) => `${c.name} ${c.pct.toFixed(0)} %`).join(', ')}\n` +
  `  top functions: ${s.topFunctions.map((f) => `${f.name} ${f.pct.toFixed(1)} %`).join('; ')}`;
