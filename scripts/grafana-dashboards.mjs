#!/usr/bin/env node
// Writes grafana/dashboards/*.json. The dashboards are data: edit the panels here, run
// `node scripts/grafana-dashboards.mjs` (or give another output directory), commit both. test/grafana/dashboards.test.ts checks the JSON is what this
// script writes, that it has the shape Grafana imports, and (integration) that every query returns data.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DS = { type: 'prometheus', uid: 'lab-prometheus' };
const RATE = '$__rate_interval';

/** A run id variable: every lab series carries `run`; "All" matches every run in the time range. */
const runVar = {
  name: 'run',
  label: 'run',
  type: 'query',
  datasource: DS,
  definition: 'label_values(lab_process_start_time_seconds, run)',
  query: { query: 'label_values(lab_process_start_time_seconds, run)', refId: 'run' },
  refresh: 2,
  sort: 2,
  includeAll: true,
  allValue: '.*',
  multi: true,
  current: { selected: true, text: ['All'], value: ['$__all'] },
  options: [],
  hide: 0,
};
const topicVar = {
  name: 'topic',
  label: 'topic',
  type: 'query',
  datasource: DS,
  definition: 'label_values(kafka_log_log_logendoffset, topic)',
  query: { query: 'label_values(kafka_log_log_logendoffset, topic)', refId: 'topic' },
  regex: '/^(?!__).*/',
  refresh: 2,
  sort: 1,
  includeAll: true,
  allValue: 'lab[.].*',
  multi: true,
  current: { selected: true, text: ['All'], value: ['$__all'] },
  options: [],
  hide: 0,
};

function dashboard(uid, title, description, vars, rows) {
  let id = 0;
  let y = 0;
  const panels = [];
  for (const row of rows) {
    panels.push({
      id: ++id,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y: y++ },
      panels: [],
    });
    let x = 0;
    for (const p of row.panels) {
      const w = p.w ?? 12;
      const h = p.h ?? 8;
      if (x + w > 24) {
        x = 0;
        y += h;
      }
      panels.push(panel(++id, p, { h, w, x, y }));
      x += w;
    }
    y += Math.max(...row.panels.map((p) => p.h ?? 8));
  }
  return {
    uid,
    title,
    description,
    tags: ['reliability-lab'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '5s',
    time: { from: 'now-30m', to: 'now' },
    timepicker: { refresh_intervals: ['1s', '5s', '10s', '30s', '1m'] },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        {
          name: 'Lab alerts firing',
          datasource: DS,
          enable: true,
          iconColor: 'red',
          expr: 'ALERTS{alertstate="firing"}',
          step: '5s',
          titleFormat: '{{alertname}}',
          tagKeys: 'severity',
          useValueForTime: false,
        },
      ],
    },
    templating: { list: vars },
    links: [
      {
        title: 'Reliability Lab dashboards',
        type: 'dashboards',
        tags: ['reliability-lab'],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
      },
    ],
    panels,
  };
}

function panel(id, p, gridPos) {
  const type = p.type ?? 'timeseries';
  const targets = p.targets.map((t, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DS,
    expr: t.expr,
    legendFormat: t.legend ?? '__auto',
    range: !p.instant,
    instant: !!p.instant,
    ...(p.instant ? { format: 'table' } : {}),
  }));
  const out = {
    id,
    type,
    title: p.title,
    description: p.description ?? '',
    datasource: DS,
    gridPos,
    targets,
    fieldConfig: {
      defaults: {
        unit: p.unit ?? 'short',
        ...(p.mappings ? { mappings: p.mappings } : {}),
        ...(p.thresholds ? { thresholds: p.thresholds } : {}),
        ...(type === 'timeseries'
          ? {
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: 10,
                showPoints: 'never',
                spanNulls: false,
              },
            }
          : {}),
      },
      overrides: [],
    },
    options:
      type === 'timeseries'
        ? {
            legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
            tooltip: { mode: 'multi', sort: 'desc' },
          }
        : type === 'stat'
          ? {
              reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
              colorMode: 'background',
              graphMode: 'none',
              textMode: 'value_and_name',
            }
          : { showHeader: true },
    ...(p.transformations ? { transformations: p.transformations } : {}),
  };
  return out;
}

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
const ZERO_GOOD = {
  mode: 'absolute',
  steps: [
    { color: 'green', value: null },
    { color: 'red', value: 1 },
  ],
};

const kafka = dashboard(
  'lab-kafka',
  'Lab — Kafka',
  'Brokers, ISR and replication, offsets (LEO, HW, LSO), lag, produce errors.',
  [topicVar, runVar],
  [
    {
      title: 'Brokers',
      panels: [
        {
          title: 'Brokers scraped (up)',
          type: 'stat',
          w: 6,
          h: 5,
          unit: 'none',
          targets: [{ expr: 'up{job="kafka"}', legend: 'broker {{broker}}' }],
          description:
            'JMX exporter of each broker answers (scraped every 5 s). A killed broker shows 0; a paused one stops answering too.',
        },
        {
          title: 'Broker state',
          type: 'stat',
          w: 6,
          h: 5,
          unit: 'none',
          targets: [{ expr: 'kafka_server_kafkaserver_brokerstate', legend: 'broker {{broker}}' }],
          description: '3 = running (RUNNING), 6/7 = shutting down/pending controlled shutdown.',
        },
        {
          title: 'Active controllers',
          type: 'stat',
          w: 6,
          h: 5,
          unit: 'none',
          targets: [
            {
              expr: 'sum(kafka_controller_kafkacontroller_activecontrollercount)',
              legend: 'active',
            },
          ],
          description: 'Exactly 1 in a healthy KRaft quorum.',
        },
        {
          title: 'Offline partitions',
          type: 'stat',
          w: 6,
          h: 5,
          unit: 'none',
          thresholds: ZERO_GOOD,
          targets: [
            {
              expr: 'max(kafka_controller_kafkacontroller_offlinepartitionscount)',
              legend: 'offline',
            },
          ],
        },
      ],
    },
    {
      title: 'Replication (ISR)',
      panels: [
        {
          title: 'Under-replicated / under-min-ISR partitions',
          targets: [
            {
              expr: 'sum by (broker) (kafka_server_replicamanager_underreplicatedpartitions)',
              legend: 'under-replicated, leader {{broker}}',
            },
            {
              expr: 'sum by (broker) (kafka_server_replicamanager_underminisrpartitioncount)',
              legend: 'under min ISR, leader {{broker}}',
            },
          ],
          description:
            'A follower out of the ISR (LabKafkaUnderReplicatedPartitions); below min.insync.replicas=2 acks=all writes are refused.',
        },
        {
          title: 'ISR size per partition',
          unit: 'none',
          targets: [
            {
              expr: 'max by (topic, partition) (kafka_cluster_partition_insyncreplicascount{topic=~"$topic"})',
              legend: '{{topic}}-{{partition}}',
            },
          ],
          description: 'Reported by each partition leader; RF is 3.',
        },
        {
          title: 'ISR shrinks and expands',
          unit: 'ops',
          targets: [
            {
              expr: `sum by (broker) (rate(kafka_server_replicamanager_isrshrinks_total[1m]))`,
              legend: 'shrinks, broker {{broker}}',
            },
            {
              expr: `sum by (broker) (rate(kafka_server_replicamanager_isrexpands_total[1m]))`,
              legend: 'expands, broker {{broker}}',
            },
          ],
        },
        {
          title: 'Partitions led per broker',
          unit: 'none',
          targets: [
            { expr: 'kafka_server_replicamanager_leadercount', legend: 'broker {{broker}}' },
          ],
          description: 'Leadership moves when a broker dies and comes back.',
        },
      ],
    },
    {
      title: 'Offsets and lag',
      panels: [
        {
          title: 'Log end offset per partition (max over replicas)',
          unit: 'none',
          targets: [
            {
              expr: 'max by (topic, partition) (kafka_log_log_logendoffset{topic=~"$topic"})',
              legend: '{{topic}}-{{partition}}',
            },
          ],
        },
        {
          title: 'High watermark and last stable offset per partition',
          unit: 'none',
          targets: [
            {
              expr: 'max by (topic, partition) (lab_kafka_partition_hw{topic=~"$topic"})',
              legend: 'HW {{topic}}-{{partition}}',
            },
            {
              expr: 'max by (topic, partition) (lab_kafka_partition_lso{topic=~"$topic"})',
              legend: 'LSO {{topic}}-{{partition}}',
            },
          ],
          description:
            'From the lab gauges lab_kafka_partition_hw / lab_kafka_partition_lso. LSO < HW while a transaction is open: read_committed consumers stop at the LSO.',
        },
        {
          title: 'LSO lag (open transactions)',
          unit: 'none',
          targets: [
            {
              expr: 'max by (topic, partition) (kafka_cluster_partition_laststableoffsetlag{topic=~"$topic"})',
              legend: '{{topic}}-{{partition}}',
            },
          ],
          description:
            'Log end offset minus last stable offset, from the brokers (LabKafkaLastStableOffsetStuck).',
        },
        {
          title: 'Consumer lag estimate per run (records in the topic − deliveries handled)',
          unit: 'none',
          targets: [
            {
              expr: 'sum by (run) (label_replace(max by (topic, partition) (kafka_log_log_logendoffset{topic=~"lab[.]exp[.]($run)"}), "run", "$1", "topic", "lab[.]exp[.](.*)")) - sum by (run) (max_over_time(lab_consumer_messages_total{run=~"$run"}[$__range]))',
              legend: '{{run}}',
            },
          ],
          description:
            "No lab service exports the group lag: records in the run's topic (log end offsets) minus every delivery consumer-service handled, summed over its incarnations. Redeliveries count as handled, so this under-estimates lag after a crash. `chaos offsets <topic> --group <g>` shows the exact lag.",
        },
      ],
    },
    {
      title: 'Produce path',
      panels: [
        {
          title: 'Messages in per topic',
          unit: 'ops',
          targets: [
            {
              expr: 'sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesin_total{topic=~"$topic"}[1m]))',
              legend: '{{topic}}',
            },
          ],
        },
        {
          title: 'Produce requests by error code',
          unit: 'reqps',
          targets: [
            {
              expr: 'sum by (error) (rate(kafka_network_requestmetrics_errors_total{request="Produce"}[1m]))',
              legend: '{{error}}',
            },
          ],
          description:
            'NONE = success. NOT_ENOUGH_REPLICAS(_AFTER_APPEND) = ISR below min.insync.replicas (LabKafkaNotEnoughReplicasErrors).',
        },
        {
          title: 'Failed produce requests',
          unit: 'reqps',
          thresholds: ZERO_GOOD,
          targets: [
            {
              expr: 'sum by (broker) (rate(kafka_server_brokertopicmetrics_failedproducerequests_total{topic=""}[1m]))',
              legend: 'broker {{broker}}',
            },
          ],
        },
        {
          title: 'Produce latency p99',
          unit: 'ms',
          targets: [
            {
              expr: 'max by (broker) (kafka_network_requestmetrics_totaltimems{request="Produce",quantile="0.99"})',
              legend: 'broker {{broker}}',
            },
          ],
        },
      ],
    },
  ],
);

const pipeline = dashboard(
  'lab-pipeline',
  'Lab — outbox and consumers',
  'Commands, the outbox relay, consumer-service deliveries, duplicates and the DLQ, per run.',
  [runVar],
  [
    {
      title: 'Commands',
      panels: [
        {
          title: 'Commands by mode and result',
          unit: 'reqps',
          targets: [
            {
              expr: `sum by (mode, result) (rate(lab_command_requests_total{run=~"$run"}[${RATE}]))`,
              legend: '{{mode}} {{result}}',
            },
          ],
        },
        {
          title: 'Commits and outbox writes',
          unit: 'ops',
          targets: [
            {
              expr: `sum by (mode) (rate(lab_command_commits_total{run=~"$run"}[${RATE}]))`,
              legend: 'commits ({{mode}})',
            },
            {
              expr: `sum by (mode) (rate(lab_command_outbox_writes_total{run=~"$run"}[${RATE}]))`,
              legend: 'outbox rows ({{mode}})',
            },
          ],
          description:
            'In outbox mode each commit writes one outbox row in the same transaction; in direct mode the event is sent after the commit (the dual write).',
        },
        {
          title: 'Command latency p99',
          unit: 's',
          targets: [
            {
              expr: `histogram_quantile(0.99, sum by (le, mode) (rate(lab_command_duration_seconds_bucket{run=~"$run"}[${RATE}])))`,
              legend: '{{mode}}',
            },
          ],
        },
        {
          title: 'Events into the domain topic, by producer',
          unit: 'ops',
          targets: [
            {
              expr: `sum by (service) (rate({__name__=~"lab_outbox_relay_published_total|lab_command_events_produced_total|lab_replay_messages_total", run=~"$run"}[${RATE}]))`,
              legend: '{{service}}',
            },
          ],
          description:
            'outbox-relay publishes (outbox mode), command-service produces itself (direct mode), replay-worker re-publishes the DLQ.',
        },
      ],
    },
    {
      title: 'Outbox relay',
      panels: [
        {
          title: 'Outbox backlog (unpublished rows)',
          unit: 'none',
          targets: [{ expr: 'sum by (run) (lab_outbox_backlog{run=~"$run"})', legend: '{{run}}' }],
        },
        {
          title: 'Oldest unpublished row age',
          unit: 's',
          targets: [
            {
              expr: 'max by (run) (lab_outbox_oldest_unpublished_age_seconds{run=~"$run"})',
              legend: '{{run}}',
            },
          ],
          description:
            "The relay's lag (LabOutboxBacklogOld above 10 s). Frozen when the relay cannot reach Kafka.",
        },
        {
          title: 'Relay batches by result',
          unit: 'ops',
          targets: [
            {
              expr: `sum by (result) (rate(lab_outbox_relay_batches_total{run=~"$run"}[${RATE}]))`,
              legend: '{{result}}',
            },
          ],
          description:
            'error = rolled back, the rows stay and are retried (LabOutboxRelayStalled when none succeeds).',
        },
        {
          title: 'Relay batch duration p99',
          unit: 's',
          targets: [
            {
              expr: `histogram_quantile(0.99, sum by (le) (rate(lab_outbox_relay_batch_duration_seconds_bucket{run=~"$run"}[${RATE}])))`,
              legend: 'claim + publish + mark',
            },
          ],
        },
      ],
    },
    {
      title: 'Consumer',
      panels: [
        {
          title: 'Deliveries by mode and result',
          unit: 'ops',
          targets: [
            {
              expr: `sum by (mode, result) (rate(lab_consumer_messages_total{run=~"$run"}[${RATE}]))`,
              legend: '{{mode}} {{result}}',
            },
          ],
          description: 'applied, duplicate (skipped thanks to processed_event), dlq.',
        },
        {
          title: 'Side effects vs deliveries (cumulative, across crashes)',
          unit: 'none',
          targets: [
            {
              expr: 'sum(max_over_time(lab_consumer_side_effects_total{run=~"$run"}[$__range]))',
              legend: 'side effects (ledger rows)',
            },
            {
              expr: 'sum(max_over_time(lab_consumer_messages_total{run=~"$run"}[$__range]))',
              legend: 'deliveries',
            },
          ],
          description:
            'Summed over incarnations with max_over_time, so a restart does not reset the count. Side effects above distinct events = duplicates (naive consumer).',
        },
        {
          title: 'Redeliveries skipped (idempotent)',
          unit: 'ops',
          targets: [
            {
              expr: `sum by (mode) (rate(lab_consumer_duplicates_skipped_total{run=~"$run"}[${RATE}]))`,
              legend: '{{mode}}',
            },
          ],
          description: 'LabConsumerRedeliveries. A naive consumer would have applied these twice.',
        },
        {
          title: 'Records in each DLQ topic',
          unit: 'none',
          targets: [
            {
              expr: 'sum by (topic) (max by (topic, partition) (kafka_log_log_logendoffset{topic=~"lab[.]exp[.]($run)[.]DLQ"}))',
              legend: '{{topic}}',
            },
          ],
          description:
            'Broker log end offsets of <topic>.DLQ (LabDlqGrowing). Poison messages land here after CONSUMER_MAX_ATTEMPTS.',
        },
        {
          title: "Produced − consumed (events/s, the lag alert's expression)",
          unit: 'ops',
          targets: [
            {
              expr: `((sum(rate({__name__=~"lab_outbox_relay_published_total|lab_command_events_produced_total|lab_replay_messages_total", run=~"$run"}[30s])) or vector(0)) - (sum(rate(lab_consumer_messages_total{run=~"$run"}[30s])) or vector(0)))`,
              legend: 'inflow − outflow',
            },
          ],
          description: 'LabConsumerLagGrowing fires when this stays above 1 for 15 s.',
        },
        {
          title: 'Consumer processing p99',
          unit: 's',
          targets: [
            {
              expr: `histogram_quantile(0.99, sum by (le, mode) (rate(lab_consumer_process_duration_seconds_bucket{run=~"$run"}[${RATE}])))`,
              legend: '{{mode}}',
            },
          ],
        },
      ],
    },
  ],
);

const cacheDb = dashboard(
  'lab-cache-db',
  'Lab — cache and database',
  'query-service cache hits, misses and DB loads (stampede), Redis, MariaDB.',
  [runVar],
  [
    {
      title: 'query-service',
      panels: [
        {
          title: 'Cache answers',
          unit: 'reqps',
          targets: [
            {
              // rate() drops __name__, so each counter gets its own `answer` label (one query: stale serves exist only in soft-ttl mode)
              expr: [
                'hit:lab_query_cache_hits_total',
                'miss:lab_query_cache_misses_total',
                'stale:lab_query_stale_serves_total',
              ]
                .map((x) => x.split(':'))
                .map(
                  ([a, m]) =>
                    `label_replace(sum(rate(${m}{run=~"$run"}[${RATE}])), "answer", "${a}", "", "")`,
                )
                .join(' or '),
              legend: '{{answer}}',
            },
          ],
          description: 'hits, misses and (soft-ttl) stale serves.',
        },
        {
          title: 'Cache hit ratio (stale serves count as hits)',
          unit: 'percentunit',
          targets: [
            {
              expr: `(sum(rate(lab_query_cache_hits_total{run=~"$run"}[1m])) + (sum(rate(lab_query_stale_serves_total{run=~"$run"}[1m])) or vector(0))) / (sum(rate(lab_query_cache_hits_total{run=~"$run"}[1m])) + (sum(rate(lab_query_stale_serves_total{run=~"$run"}[1m])) or vector(0)) + sum(rate(lab_query_cache_misses_total{run=~"$run"}[1m])))`,
              legend: 'hit ratio',
            },
          ],
          description: 'LabCacheHitRatioLow below 50 %.',
        },
        {
          title: 'Product loads sent to MariaDB, per instance',
          unit: 'ops',
          targets: [
            {
              expr: `sum by (exported_instance) (rate(lab_query_db_queries_total{run=~"$run"}[${RATE}]))`,
              legend: '{{exported_instance}}',
            },
          ],
          description:
            'A stampede is this line jumping when a hot key expires (LabQueryServiceDbLoadSpike).',
        },
        {
          title: 'Invalidations applied',
          unit: 'ops',
          targets: [
            {
              expr: `sum by (mode) (rate(lab_query_invalidations_total{run=~"$run"}[${RATE}]))`,
              legend: '{{mode}}',
            },
          ],
        },
        {
          title: 'Request latency p99 by answer source',
          unit: 's',
          targets: [
            {
              expr: `histogram_quantile(0.99, sum by (le, source) (rate(lab_query_request_duration_seconds_bucket{run=~"$run"}[${RATE}])))`,
              legend: '{{source}}',
            },
          ],
        },
        {
          title: 'Change events consumed',
          unit: 'ops',
          targets: [
            {
              expr: `sum by (type) (rate(lab_query_events_total{run=~"$run"}[${RATE}]))`,
              legend: '{{type}}',
            },
          ],
        },
      ],
    },
    {
      title: 'MariaDB',
      panels: [
        {
          title: 'Statements per second',
          unit: 'ops',
          targets: [
            { expr: `sum(rate(mysql_global_status_questions[${RATE}]))`, legend: 'questions' },
          ],
          description:
            'The whole server (LabMysqlQuestionsSpike: above 300/s and 3x its recent rate).',
        },
        {
          title: 'Statements by command',
          unit: 'ops',
          targets: [
            {
              expr: `sum by (command) (rate(mysql_global_status_commands_total{command=~"select|insert|update|delete|commit|rollback"}[${RATE}]))`,
              legend: '{{command}}',
            },
          ],
        },
        {
          title: 'Connections',
          unit: 'none',
          targets: [
            { expr: 'mysql_global_status_threads_connected', legend: 'connected' },
            { expr: 'mysql_global_status_threads_running', legend: 'running' },
          ],
        },
        {
          title: 'Row lock waits',
          unit: 'ops',
          targets: [
            {
              expr: `rate(mysql_global_status_innodb_row_lock_waits[${RATE}])`,
              legend: 'InnoDB row lock waits',
            },
          ],
          description: 'Outbox relays claiming with SKIP LOCKED should not wait.',
        },
      ],
    },
    {
      title: 'Redis',
      panels: [
        {
          title: 'Redis commands per second',
          unit: 'ops',
          targets: [
            { expr: `sum(rate(redis_commands_processed_total[${RATE}]))`, legend: 'commands' },
          ],
        },
        {
          title: 'Redis keyspace hits and misses',
          unit: 'ops',
          targets: [
            { expr: `rate(redis_keyspace_hits_total[${RATE}])`, legend: 'hits' },
            { expr: `rate(redis_keyspace_misses_total[${RATE}])`, legend: 'misses' },
          ],
        },
        {
          title: 'Redis clients and memory',
          unit: 'none',
          targets: [
            { expr: 'redis_connected_clients', legend: 'clients' },
            { expr: 'redis_memory_used_bytes / 1048576', legend: 'memory MiB' },
          ],
        },
        {
          title: 'Cache errors (Redis unreachable: requests fall back to MariaDB)',
          unit: 'ops',
          targets: [
            {
              expr: `sum(rate(redis_rejected_connections_total[${RATE}])) + (sum(rate(lab_query_cache_errors_total{run=~"$run"}[${RATE}])) or vector(0))`,
              legend: 'rejected connections + query-service cache errors',
            },
          ],
        },
      ],
    },
  ],
);

const experiments = dashboard(
  'lab-experiments',
  'Lab — experiments',
  'Verdicts of `chaos exp run`, the audit figures behind them, and the alerts that fired.',
  [runVar],
  [
    {
      title: 'Verdicts',
      panels: [
        {
          title: 'Verdict per run',
          type: 'table',
          w: 24,
          h: 8,
          instant: true,
          mappings: VERDICT_MAPPINGS,
          targets: [
            {
              expr: 'last_over_time(lab_experiment_verdict{run=~"$run"}[$__range])',
              legend: '{{experiment}} {{run}}',
            },
          ],
          transformations: [
            {
              id: 'organize',
              options: {
                excludeByName: { Time: true, __name__: true, job: true, instance: true },
                renameByName: { Value: 'verdict' },
              },
            },
          ],
          description:
            'From the engine (src/experiments/run-metrics.ts), scraped while `chaos exp run` runs. 1 = the expected outcome (✅ controlled or ❌ reproduced) was observed, 0 = it deviated, -1 = aborted.',
        },
        {
          title: 'Experiment running',
          unit: 'none',
          w: 8,
          targets: [
            {
              expr: 'max by (experiment) (lab_experiment_running{run=~"$run"})',
              legend: '{{experiment}}',
            },
          ],
        },
        {
          title: 'Probes passed / failed per run',
          type: 'table',
          w: 8,
          instant: true,
          targets: [
            {
              expr: 'last_over_time(lab_experiment_probes{run=~"$run"}[$__range])',
              legend: '{{experiment}} {{result}}',
            },
          ],
          transformations: [
            {
              id: 'organize',
              options: { excludeByName: { Time: true, __name__: true, job: true, instance: true } },
            },
          ],
        },
        {
          title: 'What the engine did (crashes, restarts, broker kills, toxics)',
          type: 'table',
          w: 8,
          instant: true,
          targets: [
            {
              expr: 'last_over_time(lab_experiment_fact{run=~"$run", fact=~"crashes|restarts|brokerKills|toxicsAdded|replays"}[$__range]) > 0 or last_over_time(lab_experiment_fact{run=~"$run", fact="commandsSent"}[$__range])',
              legend: '{{experiment}} {{fact}}',
            },
          ],
          transformations: [
            {
              id: 'organize',
              options: { excludeByName: { Time: true, __name__: true, job: true, instance: true } },
            },
          ],
        },
      ],
    },
    {
      title: 'Audit',
      panels: [
        {
          title: 'Loss, duplicates and staleness per run (audit figures)',
          type: 'table',
          w: 24,
          instant: true,
          targets: [
            {
              expr: 'last_over_time(lab_experiment_audit_figure{run=~"$run", figure=~"committed|lostBeforeTopic|notApplied|duplicateEffects|topicDuplicates|dlqRecords|staleReads"}[$__range])',
              legend: '{{experiment}} {{figure}}',
            },
          ],
          transformations: [
            {
              id: 'organize',
              options: { excludeByName: { Time: true, __name__: true, job: true, instance: true } },
            },
          ],
          description:
            'The independent audit (command_log, the topic read back, the side-effect ledger, reads through the cache) that the verdict cross-checks Prometheus against.',
        },
      ],
    },
    {
      title: 'Alerts',
      panels: [
        {
          title: 'Alerts pending and firing',
          unit: 'none',
          targets: [
            {
              expr: 'sum by (alertname, alertstate) (ALERTS)',
              legend: '{{alertname}} {{alertstate}}',
            },
          ],
          description:
            'Prometheus ALERTS (rules: prometheus/rules/lab-alerts.yml). Every experiment report lists the ones active during its run.',
        },
        {
          title: 'Alerts that fired in the time range',
          type: 'table',
          instant: true,
          targets: [
            {
              expr: 'max by (alertname, severity) (max_over_time(ALERTS{alertstate="firing"}[$__range]))',
              legend: '{{alertname}}',
            },
          ],
          transformations: [
            { id: 'organize', options: { excludeByName: { Time: true, Value: true } } },
          ],
        },
      ],
    },
  ],
);

const out = path.resolve(process.argv[2] ?? path.join(root, 'grafana/dashboards'));
fs.mkdirSync(out, { recursive: true });
for (const [file, d] of [
  ['lab-kafka.json', kafka],
  ['lab-pipeline.json', pipeline],
  ['lab-cache-db.json', cacheDb],
  ['lab-experiments.json', experiments],
]) {
  fs.writeFileSync(path.join(out, file), `${JSON.stringify(d, null, 2)}\n`);
}
if (!process.argv[2]) console.log(`wrote ${out}/lab-{kafka,pipeline,cache-db,experiments}.json`);
