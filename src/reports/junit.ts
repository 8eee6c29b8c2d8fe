import type { RunResult } from '../experiments/engine';
import { headline } from '../experiments/report';
import { escapeXmlText as x } from './escape';

/**
 * JUnit XML for CI systems: one <testsuite> per run, one <testcase> per probe. A failed probe carries
 * `expected …, observed …` (and the audit figure a cross-check disagreed with); a run that aborted or was
 * interrupted adds an <error> test case with the reason, so it is never reported green for having no probes.
 */
export function junitXml(runs: RunResult[]): string {
  const suites = runs.map(suite);
  const count = (k: 'tests' | 'failures' | 'errors') => suites.reduce((a, s) => a + s[k], 0);
  const time = runs.reduce((a, r) => a + r.durationSec, 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="reliability-lab experiments" tests="${count('tests')}" failures="${count('failures')}" errors="${count('errors')}" time="${time.toFixed(3)}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

function suite(r: RunResult) {
  const cls = `experiments.${r.id}${r.side ? `.${r.side}` : ''}`;
  const cases = r.probes.map((p) => {
    const observed = p.observed === null ? 'error' : String(p.observed);
    const cross = p.crossCheck && !p.crossCheck.ok ? `; disagrees with audit.${p.crossCheck.audit} = ${p.crossCheck.auditValue} (within ${p.crossCheck.within})` : '';
    const failure = p.ok ? '' : `\n      <failure message="${x(`expected ${p.expected}, observed ${observed}${cross}`)}" type="${p.observed === null ? 'query-error' : 'deviated'}">${x(p.detail ?? '')}</failure>\n    `;
    return `    <testcase classname="${x(cls)}" name="${x(p.name)}" time="0">${failure}</testcase>`;
  });
  for (const rb of (r.rollbacks ?? []).filter((x) => x.status === 'failed'))
    cases.push(`    <testcase classname="${x(cls)}" name="${x(`rollback: ${rb.name}`)}" time="${(rb.durationMs / 1000).toFixed(3)}">\n      <error message="${x(`${rb.error}; left: ${rb.leftover}; remove with ${rb.fix}`)}" type="rollback-failed"/>\n    </testcase>`);
  const aborted = r.outcome === 'aborted' || r.outcome === 'interrupted' || r.outcome === 'failed' || !!r.error;
  if (aborted) cases.push(`    <testcase classname="${x(cls)}" name="run" time="${r.durationSec.toFixed(3)}">\n      <error message="${x(`${r.outcome}: ${r.error ?? 'no reason recorded'}`)}" type="${x(r.outcome)}"/>\n    </testcase>`);
  const failures = r.probes.filter((p) => !p.ok).length;
  const props = { runId: r.runId, seed: r.seed, side: r.side ?? '', expected: r.expected, outcome: r.outcome, topic: r.topic };
  const xml = [
    `  <testsuite name="${x(`${r.id}${r.side ? ` (${r.side})` : ''} — ${r.title}`)}" tests="${cases.length}" failures="${failures}" errors="${aborted ? 1 : 0}" time="${r.durationSec.toFixed(3)}" timestamp="${x(r.startedAt.replace(/Z$/, ''))}">`,
    `    <properties>${Object.entries(props).map(([k, v]) => `<property name="${k}" value="${x(v)}"/>`).join('')}</properties>`,
    ...cases,
    `    <system-out>${x(headline(r))}</system-out>`,
    '  </testsuite>',
  ].join('\n');
  return { xml, tests: cases.length, failures, errors: aborted ? 1 : 0 };
}
