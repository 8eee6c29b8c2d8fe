import { expect } from 'chai';
import { countsForRun, judgeAlerts, watchAlerts } from '../../src/experiments/alert-verdict';
import { AlertExpectationSchema } from '../../src/experiments/schema';
import type { Series } from '../../src/lib/prometheus';
import type { FiredAlert } from '../../src/reports/types';

/** Which alerts count for a run, and how a side's `alerts:` expectations judge them (no Prometheus). */

const START = 1_700_000_000.5;
const RUN = 'e-002-s42-anti-1a2b3c';

const alert = (over: Partial<FiredAlert> & { alertname?: string } = {}): FiredAlert => ({
  alertname: 'LabEventsNotPublished',
  severity: 'critical',
  labels: {},
  pendingAtSec: 10,
  firingAtSec: 15,
  lastSeenSec: 30,
  ...over,
});

const expectations = (x: Record<string, string[]>) => AlertExpectationSchema.parse(x);

describe('alert verdict', () => {
  describe('countsForRun', () => {
    it('counts an alert labelled with this run, never one labelled with another run', () => {
      expect(countsForRun(alert({ labels: { run: RUN } }), RUN, START)).to.equal(true);
      // Even one that became active during this run: its label says whose it is.
      const other = alert({
        labels: { run: 'e-002-s42-pat-ffffff' },
        activeSinceEpochSec: START + 5,
      });
      expect(countsForRun(other, RUN, START)).to.equal(false);
    });

    it("counts an alert on this run's topic (or its DLQ), never one on another run's topic", () => {
      expect(countsForRun(alert({ labels: { topic: `lab.exp.${RUN}.DLQ` } }), RUN, START)).to.equal(
        true,
      );
      const other = alert({
        labels: { topic: 'lab.exp.e-001-s42-abcdef' },
        activeSinceEpochSec: START + 5,
      });
      expect(countsForRun(other, RUN, START)).to.equal(false);
    });

    it('counts an unlabelled alert only if it became active at or after the start', () => {
      const during = alert({ labels: { broker: '2' }, activeSinceEpochSec: START + 3 });
      const before = alert({ labels: { broker: '2' }, activeSinceEpochSec: START - 120 });
      expect(countsForRun(during, RUN, START)).to.equal(true);
      expect(countsForRun(before, RUN, START)).to.equal(false);
      // activeAt is whole seconds: the second the run started in counts.
      expect(countsForRun(alert({ activeSinceEpochSec: Math.floor(START) }), RUN, START)).to.equal(
        true,
      );
    });

    it("never counts an alert on a topic that is not this run's, whenever it became active", () => {
      // e.g. a transaction a UI test left open on its own topic, which goes on firing during the run
      for (const topic of ['lab.ui.t5441', 'lab.products', '__consumer_offsets'])
        expect(
          countsForRun(alert({ labels: { topic }, activeSinceEpochSec: START + 6 }), RUN, START),
          topic,
        ).to.equal(false);
    });

    it('falls back on the first pending sample without ALERTS_FOR_STATE', () => {
      expect(countsForRun(alert({ pendingAtSec: 2 }), RUN, START)).to.equal(true);
      expect(countsForRun(alert({ pendingAtSec: -4 }), RUN, START)).to.equal(false);
      expect(countsForRun(alert({ pendingAtSec: undefined }), RUN, START)).to.equal(false);
    });
  });

  describe('judgeAlerts', () => {
    it('passes a `firing` alert that fired, saying when, and fails one that did not', () => {
      const x = expectations({ firing: ['LabEventsNotPublished', 'LabDirectProduceFailures'] });
      const { probes, alerts } = judgeAlerts(x, 'reproduced', {
        alerts: [alert()],
        judgedAtSec: 60,
      });
      expect(probes.map((p) => [p.name, p.type, p.expected, p.observed, p.ok])).to.deep.equal([
        ['alert LabEventsNotPublished fires', 'alert', 'firing', 1, true],
        ['alert LabDirectProduceFailures fires', 'alert', 'firing', 0, false],
      ]);
      expect(probes[0].detail).to.equal('firing at +15.0 s after the run start');
      expect(probes[1].detail).to.equal(
        'not firing by +60.0 s after the run start (never pending)',
      );
      expect(alerts[0]).to.deep.include({ state: 'firing', expectation: 'expected' });
    });

    it('does not take a pending alert for a firing one', () => {
      const x = expectations({ firing: ['LabEventsNotPublished'] });
      const { probes } = judgeAlerts(x, 'reproduced', {
        alerts: [alert({ firingAtSec: undefined })],
        judgedAtSec: 40,
      });
      expect(probes[0]).to.deep.include({ ok: false, observed: 0 });
      expect(probes[0].detail).to.match(/pending at \+10\.0 s/);
    });

    it('fails a `silent` alert that fired', () => {
      const x = expectations({ silent: ['LabEventsNotPublished'] });
      const { probes } = judgeAlerts(x, 'controlled', { alerts: [alert()], judgedAtSec: 40 });
      expect(probes[0]).to.deep.include({
        name: 'alert LabEventsNotPublished stays silent',
        ok: false,
      });
      // Its own row says so; the ✅ default does not count it twice.
      expect(probes[1]).to.deep.include({
        name: 'no unexpected alert at warning or above',
        ok: true,
      });
    });

    it('on a ✅ side, fails an unlisted alert at warning or above, naming it; tolerated and info alerts pass', () => {
      const isr = alert({ alertname: 'LabKafkaIsrShrinks', severity: 'warning' });
      const urp = alert({ alertname: 'LabKafkaUnderReplicatedPartitions', severity: 'warning' });
      const info = alert({ alertname: 'LabConsumerRedeliveries', severity: 'info' });
      const x = expectations({ tolerated: ['LabKafkaUnderReplicatedPartitions'] });
      const noisy = judgeAlerts(x, 'controlled', { alerts: [isr, urp, info], judgedAtSec: 40 });
      expect(noisy.probes).to.have.length(1);
      expect(noisy.probes[0]).to.deep.include({ observed: 1, ok: false, expected: 'silent' });
      expect(noisy.probes[0].detail).to.equal(
        'unexpected: LabKafkaIsrShrinks (warning, firing at +15.0 s)',
      );
      expect(noisy.alerts.map((a) => a.expectation)).to.deep.equal([
        'unexpected',
        'tolerated',
        'unlisted',
      ]);
      const quiet = judgeAlerts(x, 'controlled', { alerts: [urp, info], judgedAtSec: 40 });
      expect(quiet.probes[0].ok).to.equal(true);
    });

    it('judges nothing on a ❌ side without expectations, and records what counted', () => {
      const r = judgeAlerts(undefined, 'reproduced', { alerts: [alert()], judgedAtSec: 40 });
      expect(r.probes).to.deep.equal([]);
      expect(r.alerts[0].expectation).to.equal('unlisted');
    });

    it('fails every judgement when Prometheus did not answer: no data is not a pass', () => {
      const x = expectations({ firing: ['LabEventsNotPublished'], silent: ['LabDlqGrowing'] });
      const { probes } = judgeAlerts(x, 'controlled', { error: 'connect ECONNREFUSED' });
      expect(probes).to.have.length(3);
      for (const p of probes) {
        expect(p).to.deep.include({ ok: false, observed: null });
        expect(p.detail).to.equal('ALERTS not read from Prometheus: connect ECONNREFUSED');
      }
    });
  });

  describe('watchAlerts', () => {
    const series = (firingFromSec: number): ((q: string, s: number, e: number) => Series[]) => {
      return (q, s, e) =>
        q === 'ALERTS' && e >= s + firingFromSec
          ? [
              {
                metric: { alertname: 'LabEventsNotPublished', alertstate: 'firing', run: RUN },
                values: [[s + firingFromSec, 1]],
              },
            ]
          : [];
    };
    const clockAt = (startSec: number) => {
      let now = startSec * 1000;
      const sleeps: number[] = [];
      return {
        sleeps,
        clock: { now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)) },
      };
    };

    it('reads again every 2 s until the expected alert fires, within the bound', async () => {
      const { clock, sleeps } = clockAt(START + 50);
      const prom = { range: async (q: string, s: number, e: number) => series(55)(q, s, e) };
      const r = await watchAlerts(prom, clock, {
        runId: RUN,
        startSec: START,
        waitMs: 30_000,
        firing: ['LabEventsNotPublished'],
      });
      expect(sleeps).to.deep.equal([2000, 2000, 2000]);
      expect(r).to.have.property('alerts').with.length(1);
    });

    it('never waits when nothing is left to decide', async () => {
      const { clock, sleeps } = clockAt(START + 50);
      const prom = { range: async () => [] };
      await watchAlerts(prom, clock, { runId: RUN, startSec: START, waitMs: 30_000, firing: [] });
      expect(sleeps).to.deep.equal([]);
    });

    /** Prometheus' answers: each alert firing over the whole read, ALERTS_FOR_STATE holding its activation. */
    const answering =
      (alerts: { metric: Record<string, string>; activeAt: number }[]) => (q: string, s: number) =>
        alerts.map((a) =>
          q === 'ALERTS'
            ? {
                metric: { ...a.metric, alertstate: 'firing' },
                values: [[s, 1]] as [number, number][],
              }
            : { metric: a.metric, values: [[s, a.activeAt]] as [number, number][] },
        );
    const urp = { alertname: 'LabKafkaUnderReplicatedPartitions', severity: 'warning' };

    it('keeps a cluster-wide alert active before the start as carried over, never counted', async () => {
      const { clock } = clockAt(START + 50);
      const prom = {
        range: async (q: string, s: number) =>
          answering([{ metric: { ...urp, broker: '2' }, activeAt: Math.floor(START) - 90 }])(q, s),
      };
      const r = await watchAlerts(prom, clock, {
        runId: RUN,
        startSec: START,
        waitMs: 0,
        firing: [],
      });
      if ('error' in r) throw new Error(r.error);
      expect(r.alerts).to.deep.equal([]);
      expect(r.carriedOver.map((a) => [a.alertname, a.activeSinceEpochSec])).to.deep.equal([
        [urp.alertname, Math.floor(START) - 90],
      ]);
    });

    it('counts a cluster-wide alert that became active after the start', async () => {
      const { clock } = clockAt(START + 50);
      const prom = {
        range: async (q: string, s: number) =>
          answering([{ metric: { ...urp, broker: '2' }, activeAt: Math.floor(START) + 12 }])(q, s),
      };
      const r = await watchAlerts(prom, clock, {
        runId: RUN,
        startSec: START,
        waitMs: 0,
        firing: [],
      });
      if ('error' in r) throw new Error(r.error);
      expect(r.alerts.map((a) => a.alertname)).to.deep.equal([urp.alertname]);
      expect(r.carriedOver).to.deep.equal([]);
    });

    it("never returns another run's alert, counted or carried over, whenever it became active", async () => {
      const { clock } = clockAt(START + 50);
      const other = (activeAt: number) => ({
        metric: {
          alertname: 'LabDuplicateSideEffects',
          severity: 'critical',
          run: 'e-002-s42-anti-ffffff',
        },
        activeAt,
      });
      for (const activeAt of [Math.floor(START) - 60, Math.floor(START) + 5]) {
        const prom = { range: async (q: string, s: number) => answering([other(activeAt)])(q, s) };
        const r = await watchAlerts(prom, clock, {
          runId: RUN,
          startSec: START,
          waitMs: 0,
          firing: [],
        });
        if ('error' in r) throw new Error(r.error);
        expect([...r.alerts, ...r.carriedOver], String(activeAt)).to.deep.equal([]);
      }
    });

    it('never lets a carried-over alert judge a probe: not "fires", not "stays silent", not noise', async () => {
      const { clock } = clockAt(START + 50);
      const prom = {
        range: async (q: string, s: number) =>
          answering([{ metric: { ...urp, broker: '2' }, activeAt: Math.floor(START) - 90 }])(q, s),
      };
      const seen = await watchAlerts(prom, clock, {
        runId: RUN,
        startSec: START,
        waitMs: 0,
        firing: [],
      });
      const reproduced = judgeAlerts(expectations({ firing: [urp.alertname] }), 'reproduced', seen);
      expect(reproduced.probes[0]).to.deep.include({ ok: false, observed: 0 });
      const controlled = judgeAlerts(expectations({ silent: [urp.alertname] }), 'controlled', seen);
      expect(controlled.probes.map((p) => p.ok)).to.deep.equal([true, true]);
      expect(controlled.alerts).to.deep.equal([]);
      expect(controlled.carriedOver.map((a) => a.alertname)).to.deep.equal([urp.alertname]);
    });

    it('returns the error when Prometheus cannot be queried', async () => {
      const { clock } = clockAt(START + 50);
      const prom = {
        range: async () => {
          throw new Error('Prometheus rejected "ALERTS"');
        },
      };
      const r = await watchAlerts(prom, clock, {
        runId: RUN,
        startSec: START,
        waitMs: 30_000,
        firing: ['X'],
      });
      expect(r).to.deep.equal({ error: 'Prometheus rejected "ALERTS"' });
    });
  });
});
