import { expect } from 'chai';
import type { RunResult } from '../../src/experiments/engine';
import { markdownReport } from '../../src/experiments/report';
import { summariseAlerts } from '../../src/reports/alerts';
import type { Series } from '../../src/lib/prometheus';
import { escapeXml } from '../../src/reports/escape';
import { htmlReport } from '../../src/reports/html-page';
import { indexHtml } from '../../src/reports/index-page';
import { junitXml } from '../../src/reports/junit';
import { markdownToHtml } from '../../src/reports/markdown';
import { niceTicks, svgPlot } from '../../src/reports/svg-plot';
import { markerKind } from '../../src/reports/timeline';
import { noObservations, type Observations } from '../../src/reports/types';

const t0 = Date.parse('2026-01-01T00:00:00Z') / 1000;

function run(over: Partial<RunResult> = {}): RunResult {
  return {
    id: 'E-002', title: 'Direct produce <loses> "events" & more', runId: 'e-002-s42-abc', seed: 42, expected: 'reproduced', outcome: 'completed',
    startedAt: new Date(t0 * 1000).toISOString(), durationSec: 40, topic: 'lab.exp.e-002-s42-abc', consumerGroup: 'exp-e-002-s42-abc',
    workloadKind: 'commands',
    rollbacks: [],
    alerts: [],
    workload: { sent: 60, ok: 57, failed: 3, retried: 2, latenciesMs: [], failures: [] },
    facts: { crashes: 3, failpointsFired: 3, restarts: 3, commandsSent: 60, commandsFailed: 3, brokerKills: 0, clusterNodeKills: 0, slotsMoved: 0, toxicsAdded: 0, replays: 0, schemaRejected: 0 },
    probes: [
      { name: 'lost = crashes', type: 'audit', expected: '= facts.crashes=3', observed: 3, ok: true, detail: 'audit.lostBeforeTopic' },
      { name: 'commits <seen> by "Prometheus"', type: 'promql', expected: '> 0', observed: 2, ok: false, detail: 'sum(x{run="a"}) < 1 & 2', crossCheck: { audit: 'committed', auditValue: 57, within: 0, ok: false } },
      { name: 'broken query', type: 'promql', expected: '= 0', observed: null, ok: false, detail: 'bad: parse error \u001b[31m' },
    ],
    audit: { figures: { committed: 57, lostBeforeTopic: 3, duplicateEffects: 0 }, ids: { lostBeforeTopic: ['id-<1>'], notApplied: [], duplicateEffects: [], topicDuplicates: [], staleReads: [] } },
    timeline: [
      { tMs: 100, what: 'reset: fresh topic' },
      { tMs: 2000, what: 'armed command.after-commit-before-produce on command-service: crash on pass 12, up to 3×' },
      { tMs: 9000, what: 'command-service died (crash #1); restarting it' },
      { tMs: 30000, what: 'workload done: 57/60 commands accepted, 3 failed' },
      { tMs: 35000, what: 'rollback: disarm failpoints' },
    ],
    window: { startSec: t0 + 3, endSec: t0 + 38 },
    ...over,
  };
}

const obs = (over: Partial<Observations> = {}): Observations => ({
  version: 1, window: { startSec: t0, endSec: t0 + 42, stepSec: 1 }, empty: [], errors: [],
  plots: [{ title: 'Commands <per> s', unit: 'per s', series: [{ name: 'ok & "fine"', points: [[0, 1], [1, 2], [2, NaN], [3, 4]] }] }],
  alerts: [{ alertname: 'LabDirectProduceFailures', severity: 'critical', labels: { broker: '<1>' }, pendingAtSec: 10, firingAtSec: 10, lastSeenSec: 20 }],
  ...over,
});

describe('report renderers', () => {
  describe('svgPlot', () => {
    it('escapes titles and series names and drops non-finite points', () => {
      const svg = svgPlot({ title: 'a <b> & "c"', series: [{ name: '<script>', points: [[0, 1], [1, Infinity], [2, 3]] }] });
      expect(svg).to.not.include('<script>').and.not.include('<b>');
      expect(svg).to.include('a &lt;b&gt; &amp; &quot;c&quot;').and.include('&lt;script&gt;');
      expect(svg).to.not.match(/NaN|Infinity/);
    });

    it('says "no samples" for a plot without points instead of drawing axes over nothing', () => {
      expect(svgPlot({ title: 'empty', series: [] })).to.include('no samples in this run');
      expect(svgPlot({ title: 'empty', series: [{ name: 'x', points: [[0, NaN]] }] })).to.include('no samples in this run');
    });

    it('draws a flat series, a single point and numbered markers inside the x domain only', () => {
      const svg = svgPlot({ title: 't', series: [{ name: 'flat', points: [[0, 0], [10, 0]] }, { name: 'one', points: [[5, 7]] }] }, {
        xDomain: [0, 10], markers: [{ xSec: 5, n: 2, kind: 'fault', label: 'armed <x>' }, { xSec: 50, n: 3, kind: 'crash', label: 'outside' }],
      });
      expect(svg).to.include('<circle');
      expect(svg).to.include('armed &lt;x&gt;').and.not.include('outside');
      expect(svg).to.not.match(/NaN/);
    });

    it('breaks the line across a gap in the samples (a crashed service has no series)', () => {
      const svg = svgPlot({ title: 'gap', series: [{ name: 's', points: [[0, 1], [1, 1], [2, 1], [20, 1], [21, 1]] }] });
      const d = /<path d="([^"]+)"/.exec(svg)![1];
      expect(d.match(/M/g)).to.have.length(2);
    });

    it('picks round tick values', () => {
      expect(niceTicks(0, 10, 5)).to.deep.equal([0, 2, 4, 6, 8, 10]);
      expect(niceTicks(3, 3)).to.deep.equal([3]);
    });
  });

  describe('markdownToHtml', () => {
    it('renders tables, lists, paragraphs and inline code, escaping everything', () => {
      const html = markdownToHtml('# Matrix\n\nacks **all** keeps `<data>`\n\n| acks | lost |\n|---|---:|\n| 1 | <b>3</b> |\n| all | 0 |\n\n- one\n- two & three\n\n1. first\n2. second');
      expect(html).to.include('<h3>Matrix</h3>');
      expect(html).to.include('<strong>all</strong>').and.include('<code>&lt;data&gt;</code>');
      expect(html).to.include('<th>acks</th>').and.include('<td style="text-align:right">&lt;b&gt;3&lt;/b&gt;</td>');
      expect(html).to.include('<ul><li>one</li><li>two &amp; three</li></ul>').and.include('<ol><li>first</li><li>second</li></ol>');
      expect(html).to.not.include('<b>');
    });

    it('keeps safe links and refuses javascript: ones', () => {
      expect(markdownToHtml('[runbook](../Runbook.md#dlq)')).to.include('<a href="../Runbook.md#dlq">runbook</a>');
      expect(markdownToHtml('[x](javascript:alert(1))')).to.not.include('<a ');
    });

    it('keeps fenced code verbatim', () => {
      expect(markdownToHtml('```\n| not | a table |\n<x>\n```')).to.equal('<pre><code>| not | a table |\n&lt;x&gt;</code></pre>');
    });
  });

  describe('junitXml', () => {
    const xml = junitXml([run()]);
    it('has one testcase per probe, failures carrying expected and observed, escaped', () => {
      expect(xml.match(/<testcase /g)).to.have.length(3);
      expect(xml).to.include('tests="3" failures="2" errors="0"');
      expect(xml).to.include('message="expected &gt; 0, observed 2; disagrees with audit.committed = 57 (within 0)"');
      expect(xml).to.include('name="commits &lt;seen&gt; by &quot;Prometheus&quot;"');
      expect(xml).to.include('type="query-error"');
    });
    it('strips control characters XML forbids', () => {
      expect(xml).to.not.include('\u001b');
    });
    it('makes an inconclusive run an error naming its reasons, never a failure', () => {
      const unread = { name: 'lag read', type: 'promql' as const, expected: '= 0', observed: null, ok: false, inconclusive: true, detail: 'timeout' };
      const r = run({ outcome: 'inconclusive', inconclusive: ['probe "lag read": Prometheus timed out', 'fault never took effect'], probes: [...run().probes, unread] });
      const x = junitXml([r]);
      expect(x).to.not.include('<failure');
      expect(x).to.include('tests="5" failures="0" errors="4"');
      expect(x).to.include('<error message="expected = 0, observed error" type="inconclusive">timeout</error>');
      expect(x).to.include('<testcase classname="experiments.E-002" name="run"').and.include('<error message="inconclusive: probe &quot;lag read&quot;: Prometheus timed out; fault never took effect" type="inconclusive"/>');
    });
    it('keeps a deviated run\'s failures, and its unreadable probe an error', () => {
      const unread = { name: 'lag read', type: 'promql' as const, expected: '= 0', observed: null, ok: false, inconclusive: true };
      const x = junitXml([run({ outcome: 'deviated', probes: [...run().probes, unread] })]);
      expect(x).to.include('tests="4" failures="2" errors="1"').and.include('type="inconclusive"');
    });
    it('adds an error test case for an aborted run, even with no probe', () => {
      const x = junitXml([run({ outcome: 'aborted', probes: [], error: 'broker <1> down' })]);
      expect(x).to.include('tests="1" failures="0" errors="1"').and.include('<error message="aborted: broker &lt;1&gt; down"');
    });
  });

  describe('htmlReport', () => {
    it('is one self-contained page: inline CSS and SVG, no script and no external reference', () => {
      const html = htmlReport(run(), obs());
      expect(html).to.match(/^<!DOCTYPE html>/).and.include('<style>').and.include('<svg');
      expect(html).to.not.match(/<script|<link|<img|src=|url\(|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      expect(html).to.include('Direct produce &lt;loses&gt; &quot;events&quot; &amp; more');
      expect(html).to.include('LabDirectProduceFailures').and.include('broker=&lt;1&gt;');
      expect(html).to.include('id-&lt;1&gt;');
    });

    it('renders a run without audit, observations or alerts', () => {
      const html = htmlReport(run({ audit: null, outcome: 'aborted', error: 'x' }), noObservations('Prometheus down', t0, t0 + 1));
      expect(html).to.include('The audit did not run').and.include('No alert of this run was pending or firing').and.include('Prometheus down');
    });

    it("renders a scenario's figures (no `committed`), markdown sections and own plots", () => {
      const audit = {
        figures: { acknowledged: 100, lostAcknowledged: 4 }, ids: { lostBeforeTopic: [], notApplied: [], duplicateEffects: [], topicDuplicates: [], staleReads: [] },
        sections: [{ title: 'Durability matrix', markdown: '| acks | lost |\n|---|---|\n| 1 | 4 |' }],
        plots: [{ title: 'DB queries per mode', unit: 'per s', series: [{ name: 'none', points: [[0, 1], [1, 50]] as [number, number][] }] }],
      };
      const r = run({ audit });
      const html = htmlReport(r, obs({ plots: [] }));
      expect(html).to.include('acknowledged 100, lostAcknowledged 4').and.include('<h2>Durability matrix</h2>').and.include('<td>4</td>').and.include('DB queries per mode');
      expect(markdownReport(r)).to.include('## Durability matrix');
      expect(indexHtml([{ result: r, obs: obs({ plots: [] }), href: 'E-009/report.html' }])).to.include('lostAcknowledged 4').and.include('<svg');
    });
  });

  describe('an inconclusive run', () => {
    const unknown = () => run({ outcome: 'inconclusive', inconclusive: ['ALERTS not read: <timeout>', 'crash failpoint never fired'] });

    it('reads amber in report.html, with its reasons under the verdict', () => {
      const html = htmlReport(unknown(), obs());
      const verdict = /<div class="verdict (\w+)">(.*?)<\/div>/s.exec(html)!;
      expect(verdict[1]).to.equal('unknown');
      expect(verdict[2]).to.include('badge unknown').and.include('the lab could not tell');
      expect(verdict[2]).to.include('<ul class="reasons"><li>ALERTS not read: &lt;timeout&gt;</li><li>crash failpoint never fired</li></ul>');
      expect(html).to.match(/\.unknown\{background:#fff3e0/);
    });

    it('says so in report.md and the headline, with each reason', () => {
      const md = markdownReport(unknown());
      expect(md).to.include('**E-002 INCONCLUSIVE: the lab could not tell (ALERTS not read: <timeout>; crash failpoint never fired)');
      expect(md).to.include('Why the lab could not tell:\n\n- ALERTS not read: <timeout>\n- crash failpoint never fired');
      expect(markdownReport(run({ outcome: 'inconclusive' }))).to.include('- no reason recorded');
    });

    it('marks a probe that could not be read with neither a tick nor a cross', () => {
      const unread = { name: 'lag read', type: 'promql' as const, expected: '= 0', observed: null, ok: false, inconclusive: true };
      expect(markdownReport(run({ probes: [unread] }))).to.include('| ❓ | lag read | promql | = 0 | error |');
      expect(htmlReport(run({ probes: [unread] }), obs())).to.include('<td class="inconclusive"><svg class="badge-icon unknown"');
    });

    it('has its own colour and reasons in its index row, and in the count of runs', () => {
      const html = indexHtml([
        { result: unknown(), obs: obs(), href: 'E-002/report.html' },
        { result: run({ id: 'E-001' }), obs: obs(), href: 'E-001/report.html' },
      ]);
      const row = /<tr data-outcome="inconclusive">(.*?)<\/tr>/s.exec(html)![1];
      expect(row).to.include('<span class="badge unknown">').and.include('INCONCLUSIVE');
      expect(row).to.include('<li>ALERTS not read: &lt;timeout&gt;</li>');
      expect(html).to.include('<div class="verdict unknown">1/2 runs showed their expected outcome · 1 inconclusive');
      const deviated = indexHtml([{ result: unknown(), obs: obs(), href: 'a' }, { result: run({ outcome: 'deviated' }), obs: obs(), href: 'b' }]);
      expect(deviated).to.include('<div class="verdict bad">');
    });
  });

  describe('indexHtml', () => {
    it('has one row per run with expected, outcome, key figures, alerts and a link', () => {
      const ok = run({ id: 'E-001', expected: 'controlled', audit: { figures: { committed: 60, lostBeforeTopic: 0, duplicateEffects: 0 }, ids: run().audit!.ids } });
      const bad = run({ outcome: 'deviated' });
      const html = indexHtml([{ result: ok, obs: obs({ alerts: [] }), href: 'E-001/report.html' }, { result: bad, obs: obs(), href: 'E-002/report.html' }]);
      expect(html.match(/<tr data-outcome="\w+"><td><a href=/g)).to.have.length(2);
      expect(html).to.include('controlled</span>').and.include('reproduced</span>').and.include('DEVIATED').and.include('1/2 runs');
      expect(html).to.include('<strong>lostBeforeTopic 3</strong>').and.include('LabDirectProduceFailures').and.include('href="E-002/report.html"');
      expect(html).to.not.match(/<script|src=/);
    });

    it('lists an alert that fired for several label sets once, at its earliest time', () => {
      const dlq = (topic: string, at: number) => ({ alertname: 'LabDlqGrowing', severity: 'warning', labels: { topic }, pendingAtSec: at, firingAtSec: at, lastSeenSec: at + 5 });
      const html = indexHtml([{ result: run(), obs: obs({ alerts: [dlq('a.DLQ', 81), dlq('b.DLQ', 84)] }), href: 'x/report.html' }]);
      expect(html.match(/LabDlqGrowing/g)).to.have.length(1);
      expect(html).to.include('firing +81.0 s');
    });
  });

  describe('alerts and timeline', () => {
    it('summarises ALERTS series into pending and firing times per alert instance, relative to the run start', () => {
      const series: Series[] = [
        { metric: { __name__: 'ALERTS', alertname: 'LabKafkaUnderReplicatedPartitions', alertstate: 'pending', severity: 'warning', broker: '1' }, values: [[t0 + 10, 1], [t0 + 14, 1]] as [number, number][] },
        { metric: { __name__: 'ALERTS', alertname: 'LabKafkaUnderReplicatedPartitions', alertstate: 'firing', severity: 'warning', broker: '1' }, values: [[t0 + 15, 1], [t0 + 30, 1]] as [number, number][] },
        { metric: { __name__: 'ALERTS', alertname: 'LabConsumerRedeliveries', alertstate: 'firing', severity: 'info' }, values: [[t0 + 5, 1]] as [number, number][] },
        { metric: { __name__: 'ALERTS', alertname: 'LabConsumerLagGrowing', alertstate: 'pending', severity: 'warning' }, values: [[t0 + 20, 1]] as [number, number][] },
      ];
      const since = [{ metric: { __name__: 'ALERTS_FOR_STATE', alertname: 'LabKafkaUnderReplicatedPartitions', severity: 'warning', broker: '1' }, values: [[t0 + 10, t0 + 9]] as [number, number][] }];
      const a = summariseAlerts(series, t0, since);
      expect(a.map((x) => x.alertname)).to.deep.equal(['LabConsumerRedeliveries', 'LabKafkaUnderReplicatedPartitions', 'LabConsumerLagGrowing']);
      expect(a[1]).to.deep.include({ pendingAtSec: 10, firingAtSec: 15, lastSeenSec: 30, severity: 'warning', activeSinceEpochSec: t0 + 9 });
      expect(a[1].labels).to.deep.equal({ broker: '1' });
      expect(a[0]).to.deep.include({ pendingAtSec: 5, firingAtSec: 5 });
      expect(a[2].firingAtSec).to.equal(undefined);
    });

    it('counts an alert that resolved and fired again during the run from its new activation, not from one an earlier run left firing', () => {
      const metric = { __name__: 'ALERTS', alertname: 'LabRedisClusterFailover', alertstate: 'firing', severity: 'warning', job: 'redis-cluster' };
      // firing from t0-11 (an earlier run) until t0+1, then again from t0+18 (this run's failover)
      const series: Series[] = [{ metric, values: [[t0, 1], [t0 + 1, 1], [t0 + 18, 1], [t0 + 19, 1]] }];
      const since: Series[] = [{ metric: { ...metric, __name__: 'ALERTS_FOR_STATE' }, values: [[t0, t0 - 11], [t0 + 1, t0 - 11], [t0 + 18, t0 + 17], [t0 + 19, t0 + 17]] }];
      const [a] = summariseAlerts(series, t0, since);
      expect(a).to.deep.include({ activeSinceEpochSec: t0 + 17, firingAtSec: 18, lastSeenSec: 19 });
      // Only the earlier activation in the window: it keeps its old activeAt, so it does not count for this run.
      const [old] = summariseAlerts([{ metric, values: [[t0, 1], [t0 + 1, 1]] }], t0, [{ metric: since[0].metric, values: [[t0, t0 - 11], [t0 + 1, t0 - 11]] }]);
      expect(old.activeSinceEpochSec).to.equal(t0 - 11);
    });

    it('marks faults, crashes and rollbacks of the engine timeline', () => {
      expect(markerKind('armed relay.before-publish on outbox-relay: crash on pass 5')).to.equal('fault');
      expect(markerKind('toxic latency on mysql (downstream) {"latency":500}')).to.equal('fault');
      expect(markerKind('kill kafka-2')).to.equal('fault');
      expect(markerKind('consumer-service died (crash #2); restarting it')).to.equal('crash');
      expect(markerKind('rollback: heal')).to.equal('heal');
      expect(markerKind('reset: fresh topic lab.exp.x')).to.equal(undefined);
    });

    it('escapes all five XML specials', () => {
      expect(escapeXml(`<a href="x">'&'</a>`)).to.equal('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    });
  });
});
