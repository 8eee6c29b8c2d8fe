import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ALERT_KEYS, type AlertKey, type Experiment } from './schema';

/** Severities that mean "a failure is under way": the ones an anomaly must be caught by, and noise is counted at. */
export const ALERTING_SEVERITIES: readonly string[] = ['warning', 'critical'];

export const atWarningOrAbove = (severity: string | undefined) =>
  severity !== undefined && ALERTING_SEVERITIES.includes(severity);

/**
 * Every alert of prometheus/rules/*.yml under `root` (the files Prometheus loads), by name, with its
 * labels.severity. Read afresh on each call: a rule added while experiments are being written is seen at once.
 */
export function alertRules(root: string): Map<string, { severity?: string; file: string }> {
  const dir = path.join(root, 'prometheus', 'rules');
  const rules = new Map<string, { severity?: string; file: string }>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yml'))) {
    const doc = parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
      groups?: { rules?: { alert?: string; labels?: { severity?: string } }[] }[];
    } | null;
    for (const group of doc?.groups ?? [])
      for (const rule of group.rules ?? [])
        if (rule.alert) rules.set(rule.alert, { severity: rule.labels?.severity, file });
  }
  return rules;
}

const LISTS = ['firing', 'silent', 'tolerated'] as const;

/**
 * The `alerts:` block against the rules: each name an alert that exists, in one list of its side only, keys that
 * are sides of this file (`run` without sides), and every ❌ side caught by a `firing` alert at warning or above
 * (an anomaly nobody is paged for is not caught). `expectedOf`: each side's expected outcome; `at`: a node's line.
 */
export function alertProblems(
  alerts: Experiment['alerts'],
  expectedOf: Partial<Record<AlertKey, Experiment['expected']>>,
  root: string,
  at: (path: (string | number)[]) => string = () => '',
): string[] {
  if (!alerts) return [];
  let rules: ReturnType<typeof alertRules>;
  try {
    rules = alertRules(root);
  } catch (err) {
    return [
      `alerts: cannot read the alert rules (prometheus/rules/*.yml): ${(err as Error).message}`,
    ];
  }
  const out: string[] = [];
  const valid = [...rules.keys()].sort();
  const paging = valid.filter((name) => atWarningOrAbove(rules.get(name)?.severity));
  const keys = Object.keys(expectedOf) as AlertKey[];
  for (const key of ALERT_KEYS) {
    const x = alerts[key];
    if (x && !keys.includes(key)) {
      out.push(
        `${at(['alerts', key])}alerts.${key}: this file shows ${keys.join(' and ')}${keys.includes('run') ? ' (no sides: the key is `run`)' : ''}`,
      );
      continue;
    }
    if (!keys.includes(key)) continue;
    const seen = new Map<string, string>();
    for (const list of LISTS)
      for (const [i, name] of (x?.[list] ?? []).entries()) {
        if (!rules.has(name))
          out.push(
            `${at(['alerts', key, list, i])}alerts.${key}.${list}: "${name}" is not an alert of prometheus/rules/*.yml; valid: ${valid.join(', ')}`,
          );
        if (seen.has(name))
          out.push(
            `${at(['alerts', key, list, i])}alerts.${key}: "${name}" is both ${seen.get(name)} and ${list}`,
          );
        seen.set(name, list);
      }
    if (expectedOf[key] === 'reproduced' && !x?.firing.some((n) => paging.includes(n)))
      out.push(
        `${at(['alerts', key])}alerts.${key}.firing: a ❌ side must be caught by an alert at warning or above — name one it fires (${paging.join(', ')})`,
      );
  }
  return out;
}
