import { escapeXml as h } from './escape';

/**
 * A scenario that measures the same figures once per mode names them `<mode><Figure>` (E-008: `noneDbLoadsPerKey`,
 * `softTtlP99Ms`, …): dozens of camelCase names in a row. Read back from the names alone, they form a table mode ×
 * figure; whatever does not fit the pattern (`readers`, `worstDbLoadsPerKey`) stays a plain figure.
 */
export interface FigureTable {
  /** row names as the figure names spell them (`softTtl`) */
  modes: string[];
  /** column names as the figure names spell them (`DbLoadsPerKey`) */
  columns: string[];
  /** mode → column → value (null: JSON's NaN, a mode the run left out) */
  values: Record<string, Record<string, number | null>>;
}

export interface GroupedFigures {
  table?: FigureTable;
  rest: [string, number | null][];
}

/** Below this many figures in common a prefix is a word of a name, not a mode. */
const MIN_SHARED = 3;

/** Every split of a camelCase name before a capital or a digit run: `softTtlP50Ms` → softTtl|P50Ms, soft|TtlP50Ms, … */
function splits(name: string): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 1; i < name.length; i++)
    if (/[A-Z]/.test(name[i]) && /[a-z0-9]/.test(name[i - 1]))
      out.push([name.slice(0, i), name.slice(i)]);
  return out;
}

/**
 * Modes: prefixes with at least MIN_SHARED suffixes that another prefix has too; the shortest such prefix wins
 * (`none`, not `noneDb`). Two modes at least, or there is no table.
 */
export function groupFigures(figures: Record<string, number | null>): GroupedFigures {
  const names = Object.keys(figures);
  const prefixesOf = new Map<string, Set<string>>();
  for (const n of names)
    for (const [p, s] of splits(n)) prefixesOf.set(s, (prefixesOf.get(s) ?? new Set()).add(p));
  const shared = new Map<string, string[]>();
  for (const n of names)
    for (const [p, s] of splits(n))
      if ((prefixesOf.get(s)?.size ?? 0) >= 2) shared.set(p, [...(shared.get(p) ?? []), s]);
  const candidates = [...shared].filter(([, s]) => s.length >= MIN_SHARED).map(([p]) => p);
  const modes = candidates.filter((p) => !candidates.some((q) => q !== p && p.startsWith(q)));
  if (modes.length < 2) return { rest: Object.entries(figures) };
  const columns: string[] = [];
  const values: FigureTable['values'] = {};
  const inTable = new Set<string>();
  for (const m of modes) {
    values[m] = {};
    for (const s of shared.get(m) ?? []) {
      if (!modes.some((o) => o !== m && `${o}${s}` in figures)) continue; // a column needs two modes
      if (!columns.includes(s)) columns.push(s);
      values[m][s] = figures[`${m}${s}`];
      inTable.add(`${m}${s}`);
    }
  }
  return {
    table: { modes, columns, values },
    rest: Object.entries(figures).filter(([k]) => !inTable.has(k)),
  };
}

/** `DbLoadsPerKey` → "db loads per key", `P99Ms` → "p99 ms", `softTtl` → "soft-ttl". */
export const words = (name: string, sep = ' ') =>
  name
    .replace(/([a-z0-9])([A-Z])/g, `$1${sep}$2`)
    .toLowerCase()
    .replace(/^\s+/, '');

const cell = (v: number | null | undefined) =>
  typeof v === 'number' && Number.isFinite(v)
    ? h(v)
    : '<span class="muted" title="not measured">—</span>';

/**
 * The table as HTML: one row per mode, one column per figure. `only`: the columns to show when present (the
 * index's compact table); every column otherwise.
 */
export function figureTableHtml(t: FigureTable, only?: readonly string[]): string {
  const picked = only?.filter((c) => t.columns.includes(c));
  const columns = picked?.length ? picked : t.columns;
  const head = columns.map((c) => `<th>${h(words(c))}</th>`).join('');
  const rows = t.modes.map(
    (m) =>
      `<tr><td><strong>${h(words(m, '-'))}</strong></td>${columns.map((c) => `<td class="num">${cell(t.values[m][c])}</td>`).join('')}</tr>`,
  );
  return `<table class="figures"><thead><tr><th>mode</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
