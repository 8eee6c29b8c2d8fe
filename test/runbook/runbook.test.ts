import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { findRoot } from '../../src/lib/config';

/**
 * Keeps Runbook.md from rotting:
 *  1. every alert in prometheus/rules/*.yml links (annotations.runbook_url = Runbook.md#<anchor>) to a `##` section
 *     that exists, and every in-page link of the runbook resolves;
 *  2. every `chaos …` command shown in the runbook's code (fenced blocks and inline code) is a real CLI command: its
 *     leading words are the id of a compiled oclif command under dist/src/cli/commands (src/cli/commands/a/b.ts is
 *     `chaos a b`), its --flags exist on that command and it has no more positional arguments than the command takes.
 *     A command documented before it is implemented fails here, on purpose.
 * Run after `npx tsc -p .` (npm test builds first): the command list comes from dist/.
 */
const root = findRoot(__dirname);
const runbook = fs.readFileSync(path.join(root, 'Runbook.md'), 'utf8');

/** GitHub's heading anchor: lowercase, punctuation removed (hyphens and underscores kept), each space → hyphen. */
export function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Headings outside fenced code, with their level and anchor (duplicates get -1, -2 … like GitHub). */
export function headings(md: string): { level: number; text: string; anchor: string }[] {
  const out: { level: number; text: string; anchor: string }[] = [];
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of md.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = !fenced && /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = githubAnchor(m[2]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.push({ level: m[1].length, text: m[2], anchor: n ? `${base}-${n}` : base });
  }
  return out;
}

/** The text of every fenced code block line and every inline code span. */
export function codeSnippets(md: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of md.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) out.push(line);
    else for (const m of line.matchAll(/(`+)([^`]+?)\1/g)) out.push(m[2]);
  }
  return out;
}

/** `chaos …` invocations in code: the text after `chaos` up to the end of the shell command (|, &&, ;, ), # …). */
export function chaosInvocations(snippets: string[]): string[] {
  const out: string[] = [];
  for (const s of snippets) {
    const code = s.replace(/(^|\s)#.*$/, ''); // shell comment
    for (const m of code.matchAll(/(?:^|[\s(;&|'"$])chaos(?=\s)([^|;&)]*)/g))
      out.push(`chaos${m[1]}`.trim().replace(/\s+/g, ' '));
  }
  return [...new Set(out)];
}

interface CliCommand {
  id: string;
  flags: Map<string, { takesValue: boolean }>;
  chars: Map<string, string>;
  args: number;
  strict: boolean;
}

/** Every compiled oclif command: dist/src/cli/commands/a/b.js → "a b" (a/index.js → "a"). */
export function cliCommands(
  distDir = path.join(root, 'dist/src/cli/commands'),
  srcDir = path.join(root, 'src/cli/commands'),
): CliCommand[] {
  if (!fs.existsSync(distDir))
    throw new Error(`${distDir} does not exist: build first (npx tsc -p .)`);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) files.push(p);
    }
  };
  walk(distDir);
  const out: CliCommand[] = [];
  for (const file of files.sort()) {
    const rel = path.relative(distDir, file).replace(/\.js$/, '');
    // dist/ is not cleaned between builds: a compiled command whose source was deleted is not a command any more.
    if (fs.existsSync(srcDir) && !fs.existsSync(path.join(srcDir, `${rel}.ts`))) continue;
    const parts = rel.split(path.sep);
    if (parts[parts.length - 1] === 'index') parts.pop();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cls = require(file).default;
    if (typeof cls !== 'function') continue;
    const flags = new Map<string, { takesValue: boolean }>();
    const chars = new Map<string, string>();
    const allFlags: Record<string, { type?: string; char?: string; allowNo?: boolean }> = {
      ...(cls.baseFlags ?? {}),
      ...(cls.flags ?? {}),
    };
    for (const [name, f] of Object.entries(allFlags)) {
      flags.set(name, { takesValue: f.type === 'option' });
      if (f.allowNo) flags.set(`no-${name}`, { takesValue: false });
      if (f.char) chars.set(f.char, name);
    }
    if (cls.enableJsonFlag) flags.set('json', { takesValue: false });
    flags.set('help', { takesValue: false });
    out.push({
      id: parts.join(' '),
      flags,
      chars,
      args: Object.keys(cls.args ?? {}).length,
      strict: cls.strict !== false,
    });
  }
  return out;
}

/** Why an invocation does not resolve against the CLI, or null when it does. */
export function checkInvocation(line: string, commands: CliCommand[]): string | null {
  const tokens = line
    .split(/\s+/)
    .slice(1)
    .map((t) => t.replace(/^[[\]"']+|[[\]"']+$/g, ''))
    .filter((t) => t && t !== '…' && t !== '...');
  const words: string[] = [];
  for (const t of tokens) {
    if (!/^[a-z][a-z0-9-]*$/.test(t)) break;
    words.push(t);
  }
  let cmd: CliCommand | undefined;
  for (let n = words.length; n >= 1 && !cmd; n--)
    cmd = commands.find((c) => c.id === words.slice(0, n).join(' '));
  if (!cmd) return 'no such command';
  const rest = tokens.slice(cmd.id.split(' ').length);
  let positional = 0;
  for (let i = 0; i < rest.length; i++) {
    const t = rest[i];
    if (t.startsWith('--')) {
      const [name, value] = t.slice(2).split('=', 2);
      const f = cmd.flags.get(name);
      if (!f) return `\`chaos ${cmd.id}\` has no flag --${name}`;
      if (f.takesValue && value === undefined) i++;
    } else if (/^-[a-zA-Z]$/.test(t)) {
      const name = cmd.chars.get(t[1]) ?? (t === '-h' ? 'help' : undefined);
      if (!name) return `\`chaos ${cmd.id}\` has no flag ${t}`;
      if (cmd.flags.get(name)?.takesValue) i++;
    } else positional++;
  }
  if (cmd.strict && positional > cmd.args)
    return `\`chaos ${cmd.id}\` takes ${cmd.args} argument(s), got ${positional}`;
  return null;
}

describe('Runbook.md', () => {
  const sections = headings(runbook).filter((h) => h.level === 2);

  it('has one `##` section per procedure, with unique anchors', () => {
    expect(sections.length).to.be.greaterThan(10);
    const anchors = sections.map((s) => s.anchor);
    expect(new Set(anchors).size, anchors.join(', ')).to.equal(anchors.length);
  });

  it('computes GitHub-style anchors', () => {
    expect(githubAnchor("Resetting a consumer group's offsets safely")).to.equal(
      'resetting-a-consumer-groups-offsets-safely',
    );
    expect(githubAnchor('When `chaos up` fails')).to.equal('when-chaos-up-fails');
    expect(githubAnchor('Under-replicated or offline partitions and NotEnoughReplicas')).to.equal(
      'under-replicated-or-offline-partitions-and-notenoughreplicas',
    );
  });

  it('has a section, with a runbook_url to it, for every alert in prometheus/rules/*.yml', () => {
    const anchors = new Set(sections.map((s) => s.anchor));
    const dir = path.join(root, 'prometheus/rules');
    const problems: string[] = [];
    let alerts = 0;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.yml'))) {
      for (const g of parse(fs.readFileSync(path.join(dir, f), 'utf8'))?.groups ?? []) {
        for (const r of g.rules ?? []) {
          if (!r.alert) continue;
          alerts++;
          const url: unknown = r.annotations?.runbook_url;
          const m = typeof url === 'string' ? /^Runbook\.md#([^#\s]+)$/.exec(url) : null;
          if (!m)
            problems.push(
              `${f} ${r.alert}: runbook_url ${JSON.stringify(url)} is not Runbook.md#<anchor>`,
            );
          else if (!anchors.has(m[1]))
            problems.push(`${f} ${r.alert}: Runbook.md has no "## …" section with anchor #${m[1]}`);
        }
      }
    }
    expect(alerts, 'alert rules found').to.be.greaterThan(0);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('has no broken in-page links', () => {
    const anchors = new Set(headings(runbook).map((h) => h.anchor));
    const broken = [...runbook.matchAll(/\]\(#([^)]+)\)/g)]
      .map((m) => m[1])
      .filter((a) => !anchors.has(a));
    expect(broken, `links to missing anchors: ${broken.join(', ')}`).to.deep.equal([]);
  });

  it('shows only `chaos` commands the CLI has (dist/src/cli/commands)', () => {
    const commands = cliCommands();
    expect(commands.map((c) => c.id)).to.include.members(['up', 'down', 'status']);
    const invocations = chaosInvocations(codeSnippets(runbook));
    expect(invocations.length, 'chaos commands found in the runbook').to.be.greaterThan(10);
    const problems = invocations
      .map((l) => [l, checkInvocation(l, commands)] as const)
      .filter(([, p]) => p !== null);
    const report =
      `Runbook.md shows ${problems.length} command(s) the CLI does not have (implement them, or fix the runbook):\n  ` +
      problems.map(([l, p]) => `${l}  ← ${p}`).join('\n  ') +
      `\nCLI commands (dist/src/cli/commands): ${commands.map((c) => c.id).join(', ')}\n`;
    expect(problems.length, report).to.equal(0);
  });
});

describe('runbook command checker', () => {
  const flags = (names: Record<string, boolean>) =>
    new Map(Object.entries(names).map(([k, v]) => [k, { takesValue: v }]));
  const cmds: CliCommand[] = [
    {
      id: 'down',
      flags: flags({ purge: false, json: false, help: false }),
      chars: new Map(),
      args: 0,
      strict: true,
    },
    {
      id: 'exp run',
      flags: flags({ seed: true, report: true, json: false, help: false }),
      chars: new Map(),
      args: 1,
      strict: true,
    },
    {
      id: 'offsets',
      flags: flags({ watch: false, help: false }),
      chars: new Map(),
      args: 1,
      strict: true,
    },
  ];

  it('finds invocations in fenced and inline code, not in prose or comments', () => {
    const md =
      'Run chaos up in prose.\n`chaos down --purge` and `npm run x`\n```bash\nchaos exp run E-001 --seed 7 | tee x  # then chaos heal\n```\n';
    expect(chaosInvocations(codeSnippets(md))).to.deep.equal([
      'chaos down --purge',
      'chaos exp run E-001 --seed 7',
    ]);
  });

  it('accepts real commands with their flags and arguments', () => {
    expect(checkInvocation('chaos down --purge', cmds)).to.equal(null);
    expect(checkInvocation('chaos exp run E-001 --seed 7 --json', cmds)).to.equal(null);
    expect(checkInvocation('chaos exp run <id> [--seed N]', cmds)).to.equal(null);
    expect(checkInvocation('chaos offsets lab.products --watch', cmds)).to.equal(null);
  });

  it('rejects missing commands, unknown flags and extra arguments', () => {
    expect(checkInvocation('chaos heal', cmds)).to.equal('no such command');
    expect(checkInvocation('chaos exp list', cmds)).to.equal('no such command');
    expect(checkInvocation('chaos down --force', cmds)).to.match(/no flag --force/);
    expect(checkInvocation('chaos offsets reset lab-consumer', cmds)).to.match(/takes 1 argument/);
  });
});
