import { expect } from 'chai';
import { alertRules } from '../../src/experiments/alert-rules';
import { metricNamesIn, RELOAD_RULES_FIX, unloadedAlerts } from '../../src/experiments/preflight';
import { AlertExpectationSchema } from '../../src/experiments/schema';
import { findRoot } from '../../src/lib/config';
import type { PrometheusClient } from '../../src/lib/prometheus';

describe('preflight: metric names in PromQL', () => {
  it('finds the metrics a probe reads, not its functions, labels, ranges or keywords', () => {
    const q =
      'sum(max by (partition) (max_over_time(kafka_log_log_logendoffset{topic="lab.exp.$RUN"}[$WINDOW]))) - sum(max_over_time(lab_consumer_side_effects_total{run="$RUN"}[$WINDOW]))';
    expect(metricNamesIn(q).sort()).to.deep.equal([
      'kafka_log_log_logendoffset',
      'lab_consumer_side_effects_total',
    ]);
  });

  it('handles subqueries, comparisons, numbers and offsets', () => {
    const q =
      'count(lab_kafka_partition_lso{topic="x"} == lab_kafka_partition_hw{topic="x"}) + max_over_time(sum(up)[5m:1s]) * 1e3 - x_total offset 5m';
    expect(metricNamesIn(q).sort()).to.deep.equal([
      'lab_kafka_partition_hw',
      'lab_kafka_partition_lso',
      'up',
      'x_total',
    ]);
  });

  it('sees a misspelt metric name, which would otherwise be "no data" after a whole run', () => {
    expect(
      metricNamesIn('sum(max_over_time(lab_consumer_side_efects_total{run="$RUN"}[$WINDOW]))'),
    ).to.deep.equal(['lab_consumer_side_efects_total']);
  });
});

describe('preflight: alert names against the rules Prometheus loaded', () => {
  const root = findRoot();
  const onDisk = [...alertRules(root).entries()];
  const [name, { file }] = onDisk[0];
  const loaded = (names: string[]): Pick<PrometheusClient, 'rules'> => ({
    rules: async () =>
      names.map((n) => ({ type: 'alerting' as const, name: n, group: 'lab', file: '/x.yml' })),
  });
  const declaring = (x: Record<string, string[]>) => ({
    'anti-pattern': AlertExpectationSchema.parse(x),
  });

  it('passes when Prometheus loaded every declared name', async () => {
    const problems = await unloadedAlerts(
      declaring({ firing: [name] }),
      loaded(onDisk.map(([n]) => n)),
      root,
    );
    expect(problems).to.deep.equal([]);
  });

  it('names a rule that is on disk but not loaded, where it is declared, and how to reload it', async () => {
    const problems = await unloadedAlerts(declaring({ silent: [name] }), loaded(['LabOld']), root);
    expect(problems).to.deep.equal([
      `alerts.anti-pattern.silent: "${name}" is in prometheus/rules/${file} but Prometheus has not loaded it: ${RELOAD_RULES_FIX}`,
    ]);
  });

  it('lists the loaded names for a name no rule has, and ignores recording rules', async () => {
    const prom: Pick<PrometheusClient, 'rules'> = {
      rules: async () => [
        { type: 'alerting', name: 'LabB', group: 'g', file: '/f.yml' },
        { type: 'recording', name: 'LabRenamed', group: 'g', file: '/f.yml' },
        { type: 'alerting', name: 'LabA', group: 'g', file: '/f.yml' },
      ],
    };
    const problems = await unloadedAlerts(declaring({ tolerated: ['LabRenamed'] }), prom, root);
    expect(problems).to.deep.equal([
      'alerts.anti-pattern.tolerated: "LabRenamed": Prometheus has no alert rule of that name; the names it loaded are LabA, LabB',
    ]);
  });

  it('asks nothing of Prometheus when the side declares no alert, and says when it cannot ask', async () => {
    const failing: Pick<PrometheusClient, 'rules'> = {
      rules: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    };
    expect(await unloadedAlerts(undefined, failing, root)).to.deep.equal([]);
    expect(await unloadedAlerts(declaring({ firing: [name] }), failing, root)).to.deep.equal([
      'alerts: cannot list the rules Prometheus loaded (/api/v1/rules): connect ECONNREFUSED',
    ]);
  });
});
