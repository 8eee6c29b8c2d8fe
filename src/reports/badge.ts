import type { Outcome } from '../experiments/engine';
import type { SideName } from '../experiments/schema';
import { escapeXml as h } from './escape';

/**
 * Outcome marks drawn with inline SVG and CSS instead of emoji: a report is read in headless Chromium, on CI
 * machines and in mail clients, where an emoji font is often missing and ✅/❌ render as empty boxes. Each badge
 * keeps its word (controlled, reproduced, held, failed, inconclusive) so it reads without colour, too. `unknown` is
 * the lab's third value (inconclusive: it could not tell), amber, neither a pass nor a failure.
 */
export type BadgeTone = 'pass' | 'fail' | 'unknown';

/** A check mark or a cross, 12 px, stroked in currentColor: no font needed. */
const ICON: Record<BadgeTone, string> = {
  pass: '<path d="M2.5 6.5l2.5 2.5 4.5-5.5"/>',
  fail: '<path d="M3 3l6 6M9 3l-6 6"/>',
  unknown: '<path d="M4.2 4.4a1.9 1.9 0 1 1 2.6 1.8c-.6.3-.8.7-.8 1.3"/><path d="M6 9.6v.1"/>',
};

const DEFAULT_WORD: Record<BadgeTone, string> = {
  pass: 'held',
  fail: 'failed',
  unknown: 'inconclusive',
};

/** An icon alone (a table cell of ticks), with its word as the accessible name and tooltip. */
export function badgeIcon(tone: BadgeTone, word = DEFAULT_WORD[tone]): string {
  return `<svg class="badge-icon ${tone}" role="img" aria-label="${h(word)}" width="12" height="12" viewBox="0 0 12 12" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><title>${h(word)}</title>${ICON[tone]}</svg>`;
}

/** A pill: icon and word. */
export function badge(tone: BadgeTone, word: string): string {
  return `<span class="badge ${tone}">${badgeIcon(tone, word)}${h(word)}</span>`;
}

/** The tone of an outcome: the expected one observed, the lab could not tell, or anything else. */
export const outcomeTone = (outcome: Outcome): BadgeTone =>
  outcome === 'completed' ? 'pass' : outcome === 'inconclusive' ? 'unknown' : 'fail';

/** A run's or a pair's outcome as a badge: "as expected", else the outcome's word (upper case by default). */
export const outcomeBadge = (outcome: Outcome, upper = true) =>
  badge(
    outcomeTone(outcome),
    outcome === 'completed' ? 'as expected' : upper ? outcome.toUpperCase() : outcome,
  );

/** A probe's mark: held, failed, or could not be read (its query errored: inconclusive). */
export const probeTone = (p: { ok: boolean; inconclusive?: boolean }): BadgeTone =>
  p.inconclusive ? 'unknown' : p.ok ? 'pass' : 'fail';

/** The expected outcome of a side: ✔ controlled (the pattern holds) or ✘ reproduced (the anti-pattern loses data). */
export const expectedBadge = (expected: string) =>
  expected === 'controlled' ? badge('pass', 'controlled') : badge('fail', 'reproduced');

/** A side's name as a badge: pattern (✔) or anti-pattern (✘); a one-sided run is just "run". */
export const sideBadge = (side: SideName | undefined) =>
  side === 'pattern'
    ? badge('pass', 'pattern')
    : side === 'anti-pattern'
      ? badge('fail', 'anti-pattern')
      : '<span class="badge">run</span>';

/** A side's name in plain text (plot legends, titles): no emoji either. */
export const sideText = (side: SideName | undefined) => side ?? 'run';

/** The badges' style, appended to the report's one inline stylesheet. */
export const BADGE_CSS =
  '.badge{display:inline-flex;align-items:center;gap:3px;padding:0 6px 0 4px;border-radius:9px;font-size:12px;font-weight:600;line-height:18px;white-space:nowrap;background:#eee;color:#444}' +
  '.badge.pass{background:#e8f5e9;color:#2e7d32}.badge.fail{background:#ffebee;color:#c62828}.badge.unknown{background:#fff3e0;color:#a15c00}' +
  'svg.badge-icon{flex:none;vertical-align:-1px}svg.badge-icon.pass{color:#2e7d32}svg.badge-icon.fail{color:#c62828}svg.badge-icon.unknown{color:#a15c00}';

const EMOJI_MARKS: [RegExp, BadgeTone][] = [
  [/[\u2705\u2714\u2713]\uFE0F?/gu, 'pass'],
  [/[\u274C\u2718\u2717]\uFE0F?/gu, 'fail'],
  [/\u2753\uFE0F?/gu, 'unknown'],
];

/**
 * The marks that come with the data (a probe named "✅ lost events equal crashes" in an experiment file, the
 * rollbacks' "✔ ok") drawn as badge icons: only in text between tags, never inside a tag or an attribute.
 */
export function markEmoji(html: string): string {
  return html.replace(
    />([^<]+)</g,
    (_m, text: string) =>
      `>${EMOJI_MARKS.reduce((t, [re, tone]) => t.replace(re, badgeIcon(tone)), text)}<`,
  );
}
