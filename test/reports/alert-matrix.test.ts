import { expect } from 'chai';
import { verdictTable, markdownReport } from '../../src/experiments/report';
import { alertMatrix, alertMatrixHtml } from '../../src/reports/alert-matrix';
import { htmlReport } from '../../src/reports/html-page';
import { indexHtml } from '../../src/reports/index-page';
import { junitXml } from '../../src/reports/junit';
import { noObservations } from '../../src/reports/types';
import type { RunAlert } from '../../src/reports/types';
import type { RunResult } from '../../src/experiments/engine';
import { sideRun } from '../support/side-run';

/** The alert matrix of the index page, and how the alert judgements read in each renderer. */

const fired = (alertname: string, over: Partial<RunAlert> = {}): RunAlert => ({
  alertname,
  severity: 'critical',
  labels: {},
  pendingAtSec: 4,
  firingAtSec: 6,
  lastSeenSec: 20,
  state: 'firing',
  expectation: 'expected',
  ...over,
});

const expecting = (x: Partial<Record<'firing' | 'silent' | 'tolerated', string[]>>) => ({
  firing: [],
  silent: [],
  tolerated: [],
  ...x,
});

/** E-002 both ways (the ❌ side caught, the ✅ side noisy), E-003 both ways (the ❌ side missed, the ✅ side quiet). */
function runs(): RunResult[] {
  return [
    sideRun('anti-pattern', {
      alertExpectations: expecting({ firing: ['LabEventsNotPublished'] }),
      alerts: [fired('LabEventsNotPublished')],
    }),
    sideRun('pattern', {
      alertExpectations: expecting({
        silent: ['LabEventsNotPublished'],
        tolerated: ['LabKafkaUnderReplicatedPartitions'],
      }),
      alerts: [
        fired('LabKafkaUnderReplicatedPartitions', {
          severity: 'warning',
          expectation: 'tolerated',
        }),
        fired('LabKafkaIsrShrinks', { severity: 'warning', expectation: 'unexpected' }),
      ],
    }),
    sideRun('anti-pattern', {
      id: 'E-003',
      runId: 'e-003-anti',
      alertExpectations: expecting({ firing: ['LabDuplicateSideEffects'] }),
      alerts: [fired('LabConsumerRedeliveries', { severity: 'info', expectation: 'unlisted' })],
    }),
    sideRun('pattern', { id: 'E-003', runId: 'e-003-pat', alertExpectations: expecting({}) }),
  ];
}

describe('alert matrix', () => {
  it('has one row per experiment side and a column per alert declared or fired', () => {
    const m = alertMatrix(runs());
    expect(m.rows.map((r) => `${r.id} ${r.side}`)).to.deep.equal([
      'E-002 anti-pattern',
      'E-002 pattern',
      'E-003 anti-pattern',
      'E-003 pattern',
    ]);
    expect(m.alerts).to.deep.equal([
      'LabConsumerRedeliveries',
      'LabDuplicateSideEffects',
      'LabEventsNotPublished',
      'LabKafkaIsrShrinks',
      'LabKafkaUnderReplicatedPartitions',
    ]);
    expect(m.rows[0].cells.LabEventsNotPublished).to.equal('caught');
    expect(m.rows[1].cells).to.deep.include({
      LabEventsNotPublished: 'none',
      LabKafkaIsrShrinks: 'noise',
      LabKafkaUnderReplicatedPartitions: 'tolerated',
    });
    expect(m.rows[2].cells).to.deep.include({
      LabDuplicateSideEffects: 'missed',
      LabConsumerRedeliveries: 'unlisted',
    });
  });

  it('totals recall over ❌ sides and noise over ✅ sides', () => {
    const m = alertMatrix(runs());
    expect(m.recall).to.deep.equal({
      caught: 1,
      of: 2,
      missed: ['E-003 anti-pattern'],
      inconclusive: [],
    });
    expect(m.noise).to.deep.equal(['E-002 pattern: LabKafkaIsrShrinks']);
  });

  it('does not count a ❌ side the lab could not judge as a miss: it marks it inconclusive', () => {
    const [caught, , missed, quiet] = runs();
    const unknown = { ...missed, outcome: 'inconclusive' as const, inconclusive: ['ALERTS not read'] };
    const m = alertMatrix([caught, unknown, quiet]);
    expect(m.rows[1]).to.deep.include({ inconclusive: true });
    expect(m.rows[1].cells.LabDuplicateSideEffects).to.equal('inconclusive');
    expect(m.recall).to.deep.equal({
      caught: 1,
      of: 1,
      missed: [],
      inconclusive: ['E-003 anti-pattern'],
    });
    const html = alertMatrixHtml(m);
    expect(html).to.include('not judged (inconclusive run)').and.include('badge unknown');
    expect(html).to.include('1 not judged (inconclusive, neither caught nor missed): E-003 anti-pattern');
  });

  it('marks a `fires` judgement that could not be read inconclusive, even on a run otherwise judged', () => {
    const [, , missed] = runs();
    const probe = {
      name: 'alert LabDuplicateSideEffects fires',
      type: 'alert' as const,
      expected: 'firing',
      observed: null,
      ok: false,
      inconclusive: true,
    };
    const m = alertMatrix([{ ...missed, probes: [...missed.probes, probe] }]);
    expect(m.rows[0].cells.LabDuplicateSideEffects).to.equal('inconclusive');
  });

  it('takes the latest run of each side', () => {
    const older = sideRun('anti-pattern', {
      startedAt: new Date(-60_000).toISOString(),
      seed: 7,
      alertExpectations: expecting({ firing: ['LabEventsNotPublished'] }),
    });
    const m = alertMatrix([runs()[0], older]);
    expect(m.rows).to.have.length(1);
    expect(m.rows[0]).to.deep.include({ seed: 42 });
    expect(m.recall.caught).to.equal(1);
  });

  it('renders each cell in words (a headless browser may have no emoji font), with the totals', () => {
    const html = alertMatrixHtml(alertMatrix(runs()));
    expect(html).to.match(/expected <svg [^]*?aria-label="fired"[^]*?<\/svg> fired/);
    expect(html).to.match(/expected <svg [^]*?aria-label="silent"[^]*?<\/svg> silent/);
    expect(html).to.include('fired (unexpected)').and.include('fired (tolerated)').and.include('—');
    expect(html).to.include('E-003</strong> anti-pattern').and.include('seed 42');
    expect(html).to.match(
      /Recall: <strong>1\/2<\/strong> reproduced .* not caught: E-003 anti-pattern/,
    );
    expect(html).to.match(
      /Noise: <strong>1<\/strong> unexpected .* E-002 pattern: LabKafkaIsrShrinks/,
    );
    const index = indexHtml(
      runs().map((result) => ({ result, obs: noObservations('x'), href: 'r.html' })),
    );
    expect(index).to.include('<h2>Alert matrix</h2>').and.include('table class="matrix"');
  });

  it('renders runs from before alert expectations (no alerts in their journal)', () => {
    const old = { ...sideRun('pattern'), alerts: undefined } as unknown as RunResult;
    expect(alertMatrixHtml(alertMatrix([old]))).to.include(
      'No side declares an alert, and none fired',
    );
  });
});

describe('alert judgements in the renderers', () => {
  const r = sideRun('pattern', {
    probes: [
      {
        name: 'none lost',
        type: 'audit',
        expected: '= 0',
        observed: 0,
        ok: true,
        detail: 'audit.lostBeforeTopic',
      },
      {
        name: 'no unexpected alert at warning or above',
        type: 'alert',
        expected: 'silent',
        observed: 1,
        ok: false,
        detail: 'unexpected: LabKafkaIsrShrinks (warning, firing at +6.0 s)',
      },
    ],
    alerts: [fired('LabKafkaIsrShrinks', { severity: 'warning', expectation: 'unexpected' })],
  });

  it('shows them in the CLI verdict table and report.md with what fired', () => {
    expect(verdictTable(r)).to.match(
      /❌ {2}no unexpected alert at warning or above +alert +silent +1 +unexpected: LabKafkaIsrShrinks \(warning, firing at \+6\.0 s\)/,
    );
    expect(markdownReport(r, r.alerts))
      .to.include(
        '| ❌ | no unexpected alert at warning or above | alert | silent | 1 | unexpected: LabKafkaIsrShrinks (warning, firing at +6.0 s) |',
      )
      .and.include(
        '- LabKafkaIsrShrinks (warning): firing at +6.0 s, pending at +4.0 s — unexpected',
      );
  });

  it('gives each its JUnit test case, failing with expected and observed', () => {
    const xml = junitXml([r]);
    expect(xml).to.include('tests="2" failures="1"');
    expect(xml).to.include(
      '<failure message="expected silent, observed 1" type="deviated">unexpected: LabKafkaIsrShrinks (warning, firing at +6.0 s)</failure>',
    );
  });

  it("says in report.html what each alert counted as for the run; another run's only on the grey line", () => {
    const leftover = { ...fired('LabKafkaOfflinePartitions'), labels: { run: 'another' } };
    const html = htmlReport(r, {
      ...noObservations('x'),
      errors: [],
      alerts: [r.alerts[0], leftover],
    });
    expect(html).to.include('<th>for this run</th>');
    expect(html).to.include('<td class="fail">unexpected</td>');
    const carried = /<details class="carried">(.*?)<\/details>/s.exec(html)?.[1] ?? '';
    expect(carried).to.include('1 alert carried over from earlier runs').and.include(
      'LabKafkaOfflinePartitions',
    );
    expect(html.replace(/<details class="carried">.*?<\/details>/s, '')).to.not.include(
      'LabKafkaOfflinePartitions',
    );
  });
});
