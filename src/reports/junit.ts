import type { RunResult } from '../experiments/engine';
import { headline, inconclusiveReasons } from '../experiments/report';
import type { ProbeResult } from '../experiments/verdict';
import { escapeXmlText as x } from './escape';

/**
 * JUnit XML for CI systems: one <testsuite> per run, one <testcase> per probe. A failed probe carries
 * `expected …, observed …` (and the audit figure a cross-check disagreed with); a run that aborted or was
 * interrupted adds an <error> test case with the reason, so it is never reported green for having no probes. The
 * lab's "could not tell" is an error, never a failure: a probe that could not be read is `<error type="inconclusive">`,
 * and an inconclusive run adds a `run` error naming its reasons, its other failing probes becoming errors too (what
 * they observed is not a verdict on the system).
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

/** What a probe that did not hold becomes: a failure (the system deviated) or an error (the lab could not tell). */
function probeOutcome(p: ProbeResult, runInconclusive: boolean): { tag: 'failure' | 'error'; type: string } | undefined {
  if (p.ok) return undefined;
  if (p.inconclusive || runInconclusive) return { tag: 'error', type: 'inconclusive' };
  return { tag: 'failure', type: p.observed === null ? 'query-error' : 'deviated' };
}

function suite(r: RunResult) {
  const cls = `experiments.${r.id}${r.side ? `.${r.side}` : ''}`;
  const inconclusive = r.outcome === 'inconclusive';
  const outcomes = r.probes.map((p) => probeOutcome(p, inconclusive));
  const cases = r.probes.map((p, i) => {
    const observed = p.observed === null ? 'error' : String(p.observed);
    const cross = p.crossCheck && !p.crossCheck.ok ? `; disagrees with audit.${p.crossCheck.audit} = ${p.crossCheck.auditValue} (within ${p.crossCheck.within})` : '';
    const o = outcomes[i];
    const body = o ? `\n      <${o.tag} message="${x(`expected ${p.expected}, observed ${observed}${cross}`)}" type="${o.type}">${x(p.detail ?? '')}</${o.tag}>\n    ` : '';
    return `    <testcase classname="${x(cls)}" name="${x(p.name)}" time="0">${body}</testcase>`;
  });
  const failedRollbacks = (r.rollbacks ?? []).filter((rb) => rb.status === 'failed');
  for (const rb of failedRollbacks)
    cases.push(`    <testcase classname="${x(cls)}" name="${x(`rollback: ${rb.name}`)}" time="${(rb.durationMs / 1000).toFixed(3)}">\n      <error message="${x(`${rb.error}; left: ${rb.leftover}; remove with ${rb.fix}`)}" type="rollback-failed"/>\n    </testcase>`);
  const aborted = r.outcome === 'aborted' || r.outcome === 'interrupted' || r.outcome === 'failed' || !!r.error;
  const why = inconclusive ? inconclusiveReasons(r).join('; ') : (r.error ?? 'no reason recorded');
  if (aborted || inconclusive) cases.push(`    <testcase classname="${x(cls)}" name="run" time="${r.durationSec.toFixed(3)}">\n      <error message="${x(`${r.outcome}: ${why}`)}" type="${x(r.outcome)}"/>\n    </testcase>`);
  const failures = outcomes.filter((o) => o?.tag === 'failure').length;
  const errors = outcomes.filter((o) => o?.tag === 'error').length + failedRollbacks.length + (aborted || inconclusive ? 1 : 0);
  const props = { runId: r.runId, seed: r.seed, side: r.side ?? '', expected: r.expected, outcome: r.outcome, topic: r.topic };
  const xml = [
    `  <testsuite name="${x(`${r.id}${r.side ? ` (${r.side})` : ''} — ${r.title}`)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${r.durationSec.toFixed(3)}" timestamp="${x(r.startedAt.replace(/Z$/, ''))}">`,
    `    <properties>${Object.entries(props).map(([k, v]) => `<property name="${k}" value="${x(v)}"/>`).join('')}</properties>`,
    ...cases,
    `    <system-out>${x(headline(r))}</system-out>`,
    '  </testsuite>',
  ].join('\n');
  return { xml, tests: cases.length, failures, errors };
}
