import { expect } from 'chai';
import { pairOf } from '../../src/experiments/pair';
import { markdownReport } from '../../src/experiments/report';
import { htmlReport } from '../../src/reports/html-page';
import { indexHtml } from '../../src/reports/index-page';
import { pairHtml } from '../../src/reports/pair-page';
import { alertsOfRun } from '../../src/reports/run-alerts';
import type { FiredAlert, Observations, RunAlert } from '../../src/reports/types';
import { sideRun } from '../support/side-run';

/** What the reports show of the alerts seen in a run's window: only those that count for it in its row. */

const seen = (alertname: string, over: Partial<FiredAlert> = {}): FiredAlert => ({
  alertname,
  severity: 'critical',
  labels: {},
  pendingAtSec: 4,
  firingAtSec: 6,
  lastSeenSec: 20,
  ...over,
});
const ANTI = 'e-002-s42-anti-pattern';

/** E-002's ✅ side after its ❌ side: the ❌ side's alerts and a broker alert from start-up still in its window. */
const carried = [
  seen('LabDuplicateSideEffects', { labels: { run: ANTI } }),
  seen('LabEventsNotPublished', { labels: { run: ANTI } }),
  seen('LabKafkaUncleanLeaderElection', { labels: { broker: '2' }, activeSinceEpochSec: -90 }),
];
const own = seen('LabKafkaUnderReplicatedPartitions', {
  severity: 'warning',
  labels: { broker: '1' },
  activeSinceEpochSec: 3,
});
const judged: RunAlert = { ...own, state: 'firing', expectation: 'tolerated' };
const observed = (alerts: FiredAlert[]): Observations => ({
  version: 1,
  window: { startSec: 0, endSec: 30, stepSec: 1 },
  plots: [],
  empty: [],
  alerts,
  errors: [],
});
const pattern = () => sideRun('pattern', { alerts: [judged] });
const anti = () => sideRun('anti-pattern', { alerts: [{ ...carried[0], state: 'firing', expectation: 'expected' }] });

const CARRIED_LINE = /<details class="carried"><summary>(.*?)<\/summary>.*?<\/details>/s;

describe('the alerts a report shows for a run', () => {
  describe('alertsOfRun', () => {
    it("counts a judged run's own alerts and sets every other one seen in its window apart", () => {
      const { counted, carriedOver } = alertsOfRun(pattern(), [...carried, own]);
      expect(counted.map((a) => a.alertname)).to.deep.equal([own.alertname]);
      expect(carriedOver.map((a) => a.alertname)).to.deep.equal(carried.map((a) => a.alertname));
    });

    it('keeps a counted alert judged after the report window (during the alert wait)', () => {
      const late = { ...judged, alertname: 'LabDlqGrowing' };
      const { counted } = alertsOfRun(sideRun('pattern', { alerts: [judged, late] }), [own]);
      expect(counted.map((a) => a.alertname)).to.deep.equal([own.alertname, 'LabDlqGrowing']);
    });

    it('on a run judged on nothing, counts a cluster-wide alert only from the workload start', () => {
      // the report window starts at startedAt (0); the workload 10 s later
      const r = sideRun('anti-pattern', { window: { startSec: 10, endSec: 20 } });
      const before = seen('LabKafkaIsrShrinks', { labels: { broker: '1' }, pendingAtSec: 8 });
      const after = seen('LabKafkaIsrShrinks', { labels: { broker: '3' }, pendingAtSec: 12 });
      const mine = seen('LabEventsNotPublished', { labels: { run: ANTI }, pendingAtSec: 1 });
      const { counted, carriedOver } = alertsOfRun(r, [before, after, mine]);
      expect(counted).to.deep.equal([after, mine]);
      expect(carriedOver).to.deep.equal([before]);
    });
  });

  describe('index.html', () => {
    it("renders none of a run's carried-over alerts in its row's alert column, only on its grey line", () => {
      const html = indexHtml([
        { result: anti(), obs: observed([carried[0]]), href: 'anti-pattern/report.html' },
        { result: pattern(), obs: observed([...carried, own]), href: 'pattern/report.html' },
      ]);
      const cells = [...html.matchAll(/<td class="small alerts">(.*?)<\/td>/gs)].map((m) => m[1]);
      expect(cells).to.have.length(2);
      const [antiCell, patternCell] = cells;
      expect(antiCell).to.include('LabDuplicateSideEffects').and.not.include('<details');
      expect(patternCell).to.include(own.alertname);
      expect(CARRIED_LINE.exec(patternCell)?.[1]).to.equal('3 alerts carried over from earlier runs');
      const visible = patternCell.replace(CARRIED_LINE, '');
      for (const a of carried) expect(visible, a.alertname).to.not.include(a.alertname);
    });
  });

  describe('report.html, report.md and pair.html', () => {
    it('list the counted alerts and put the carried-over ones on one grey collapsed line', () => {
      const r = pattern();
      const obs = observed([...carried, own]);
      const html = htmlReport(r, obs);
      expect(CARRIED_LINE.exec(html)?.[1]).to.equal('3 alerts carried over from earlier runs');
      const visible = html.replace(CARRIED_LINE, '');
      expect(visible).to.include(own.alertname);
      for (const a of carried) expect(visible, a.alertname).to.not.include(a.alertname);

      const md = markdownReport(r, obs.alerts);
      expect(md).to.include(`- ${own.alertname} (warning): firing at +6.0 s, pending at +4.0 s — broker=1 — tolerated`);
      expect(md).to.include(
        '- 3 alerts carried over from earlier runs (not this run\'s, judged by nothing): LabDuplicateSideEffects, LabEventsNotPublished, LabKafkaUncleanLeaderElection',
      );

      const pair = pairHtml(pairOf([anti(), r]), [observed([carried[0]]), obs]);
      const section = /<h2>Alerts<\/h2>(.*?)<h2>/s.exec(pair)?.[1] ?? '';
      expect(section).to.include('LabDuplicateSideEffects').and.include(own.alertname);
      expect(CARRIED_LINE.exec(section)?.[1]).to.equal('3 alerts carried over from earlier runs');
      const patternCell = section.split('<td class="small">')[2].replace(CARRIED_LINE, '');
      for (const a of carried) expect(patternCell, a.alertname).to.not.include(a.alertname);
    });
  });
});
