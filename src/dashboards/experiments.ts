/** Lab — experiments: verdicts of `chaos exp run`, the audit figures behind them, and the alerts that fired. */
import { dashboard, row, runVar, table, target, timeseries } from './builder';

/** lab_experiment_verdict: 1 = as expected, 0 = deviated, -1 = aborted. */
const VERDICT_MAPPINGS = [
  {
    type: 'value',
    options: {
      1: { text: 'as expected', color: 'green', index: 0 },
      0: { text: 'DEVIATED', color: 'red', index: 1 },
      '-1': { text: 'aborted', color: 'orange', index: 2 },
    },
  },
];

/** Hides the columns every instant query has (time, metric name, scrape job and instance). */
function organize(renameByName?: Record<string, string>): unknown[] {
  const excludeByName = { Time: true, __name__: true, job: true, instance: true };
  return [
    {
      id: 'organize',
      options: renameByName ? { excludeByName, renameByName } : { excludeByName },
    },
  ];
}

const verdict = table(
  'Verdict per run',
  [
    target(
      'last_over_time(lab_experiment_verdict{run=~"$run"}[$__range])',
      '{{experiment}} {{run}}',
    ),
  ],
  {
    w: 24,
    h: 8,
    mappings: VERDICT_MAPPINGS,
    transformations: organize({ Value: 'verdict' }),
    description:
      'From the engine (src/experiments/run-metrics.ts), scraped while `chaos exp run` runs. 1 = the expected outcome (✅ controlled or ❌ reproduced) was observed, 0 = it deviated, -1 = aborted.',
  },
);

const verdicts = row(
  'Verdicts',
  verdict,
  timeseries(
    'Experiment running',
    [target('max by (experiment) (lab_experiment_running{run=~"$run"})', '{{experiment}}')],
    { unit: 'none', w: 8 },
  ),
  table(
    'Probes passed / failed per run',
    [
      target(
        'last_over_time(lab_experiment_probes{run=~"$run"}[$__range])',
        '{{experiment}} {{result}}',
      ),
    ],
    { w: 8, transformations: organize() },
  ),
  table(
    'What the engine did (crashes, restarts, broker kills, toxics)',
    [
      target(
        'last_over_time(lab_experiment_fact{run=~"$run", fact=~"crashes|restarts|brokerKills|toxicsAdded|replays"}[$__range]) > 0 or last_over_time(lab_experiment_fact{run=~"$run", fact="commandsSent"}[$__range])',
        '{{experiment}} {{fact}}',
      ),
    ],
    { w: 8, transformations: organize() },
  ),
);

const audit = row(
  'Audit',
  table(
    'Loss, duplicates and staleness per run (audit figures)',
    [
      target(
        'last_over_time(lab_experiment_audit_figure{run=~"$run", figure=~"committed|lostBeforeTopic|notApplied|duplicateEffects|topicDuplicates|dlqRecords|staleReads"}[$__range])',
        '{{experiment}} {{figure}}',
      ),
    ],
    {
      w: 24,
      transformations: organize(),
      description:
        'The independent audit (command_log, the topic read back, the side-effect ledger, reads through the cache) that the verdict cross-checks Prometheus against.',
    },
  ),
);

const alerts = row(
  'Alerts',
  timeseries(
    'Alerts pending and firing',
    [target('sum by (alertname, alertstate) (ALERTS)', '{{alertname}} {{alertstate}}')],
    {
      unit: 'none',
      description:
        'Prometheus ALERTS (rules: prometheus/rules/lab-alerts.yml). Every experiment report lists the ones active during its run.',
    },
  ),
  table(
    'Alerts that fired in the time range',
    [
      target(
        'max by (alertname, severity) (max_over_time(ALERTS{alertstate="firing"}[$__range]))',
        '{{alertname}}',
      ),
    ],
    {
      transformations: [
        { id: 'organize', options: { excludeByName: { Time: true, Value: true } } },
      ],
    },
  ),
);

export const experiments = dashboard(
  'lab-experiments',
  'Lab — experiments',
  'Verdicts of `chaos exp run`, the audit figures behind them, and the alerts that fired.',
  [runVar],
  [verdicts, audit, alerts],
);
