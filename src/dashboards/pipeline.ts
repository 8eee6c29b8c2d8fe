/** Lab — outbox and consumers: commands, the outbox relay, consumer-service deliveries, duplicates and the DLQ. */
import { dashboard, RATE, row, runVar, target, timeseries } from './builder';

/** Every counter of an event reaching the domain topic: relay, direct-mode command-service, DLQ replay. */
const PRODUCED = `{__name__=~"lab_outbox_relay_published_total|lab_command_events_produced_total|lab_replay_messages_total", run=~"$run"}`;

const commands = row(
  'Commands',
  timeseries(
    'Commands by mode and result',
    [
      target(
        `sum by (mode, result) (rate(lab_command_requests_total{run=~"$run"}[${RATE}]))`,
        '{{mode}} {{result}}',
      ),
    ],
    { unit: 'reqps' },
  ),
  timeseries(
    'Commits and outbox writes',
    [
      target(
        `sum by (mode) (rate(lab_command_commits_total{run=~"$run"}[${RATE}]))`,
        'commits ({{mode}})',
      ),
      target(
        `sum by (mode) (rate(lab_command_outbox_writes_total{run=~"$run"}[${RATE}]))`,
        'outbox rows ({{mode}})',
      ),
    ],
    {
      unit: 'ops',
      description:
        'In outbox mode each commit writes one outbox row in the same transaction; in direct mode the event is sent after the commit (the dual write).',
    },
  ),
  timeseries(
    'Command latency p99',
    [
      target(
        `histogram_quantile(0.99, sum by (le, mode) (rate(lab_command_duration_seconds_bucket{run=~"$run"}[${RATE}])))`,
        '{{mode}}',
      ),
    ],
    { unit: 's' },
  ),
  timeseries(
    'Events into the domain topic, by producer',
    [target(`sum by (service) (rate(${PRODUCED}[${RATE}]))`, '{{service}}')],
    {
      unit: 'ops',
      description:
        'outbox-relay publishes (outbox mode), command-service produces itself (direct mode), replay-worker re-publishes the DLQ.',
    },
  ),
);

const relay = row(
  'Outbox relay',
  timeseries(
    'Outbox backlog (unpublished rows)',
    [target('sum by (run) (lab_outbox_backlog{run=~"$run"})', '{{run}}')],
    { unit: 'none' },
  ),
  timeseries(
    'Oldest unpublished row age',
    [target('max by (run) (lab_outbox_oldest_unpublished_age_seconds{run=~"$run"})', '{{run}}')],
    {
      unit: 's',
      description:
        "The relay's lag (LabOutboxBacklogOld above 10 s). Frozen when the relay cannot reach Kafka.",
    },
  ),
  timeseries(
    'Relay batches by result',
    [
      target(
        `sum by (result) (rate(lab_outbox_relay_batches_total{run=~"$run"}[${RATE}]))`,
        '{{result}}',
      ),
    ],
    {
      unit: 'ops',
      description:
        'error = rolled back, the rows stay and are retried (LabOutboxRelayStalled when none succeeds).',
    },
  ),
  timeseries(
    'Relay batch duration p99',
    [
      target(
        `histogram_quantile(0.99, sum by (le) (rate(lab_outbox_relay_batch_duration_seconds_bucket{run=~"$run"}[${RATE}])))`,
        'claim + publish + mark',
      ),
    ],
    { unit: 's' },
  ),
);

const deliveries = [
  timeseries(
    'Deliveries by mode and result',
    [
      target(
        `sum by (mode, result) (rate(lab_consumer_messages_total{run=~"$run"}[${RATE}]))`,
        '{{mode}} {{result}}',
      ),
    ],
    { unit: 'ops', description: 'applied, duplicate (skipped thanks to processed_event), dlq.' },
  ),
  timeseries(
    'Side effects vs deliveries (cumulative, across crashes)',
    [
      target(
        'sum(max_over_time(lab_consumer_side_effects_total{run=~"$run"}[$__range]))',
        'side effects (ledger rows)',
      ),
      target(
        'sum(max_over_time(lab_consumer_messages_total{run=~"$run"}[$__range]))',
        'deliveries',
      ),
    ],
    {
      unit: 'none',
      description:
        'Summed over incarnations with max_over_time, so a restart does not reset the count. Side effects above distinct events = duplicates (naive consumer).',
    },
  ),
  timeseries(
    'Redeliveries skipped (idempotent)',
    [
      target(
        `sum by (mode) (rate(lab_consumer_duplicates_skipped_total{run=~"$run"}[${RATE}]))`,
        '{{mode}}',
      ),
    ],
    {
      unit: 'ops',
      description: 'LabConsumerRedeliveries. A naive consumer would have applied these twice.',
    },
  ),
];

const dlqAndLag = [
  timeseries(
    'Records in each DLQ topic',
    [
      target(
        'sum by (topic) (max by (topic, partition) (kafka_log_log_logendoffset{topic=~"lab[.]exp[.]($run)[.]DLQ"}))',
        '{{topic}}',
      ),
    ],
    {
      unit: 'none',
      description:
        'Broker log end offsets of <topic>.DLQ (LabDlqGrowing). Poison messages land here after CONSUMER_MAX_ATTEMPTS.',
    },
  ),
  timeseries(
    "Produced − consumed (events/s, the lag alert's expression)",
    [
      target(
        `((sum(rate(${PRODUCED}[30s])) or vector(0)) - (sum(rate(lab_consumer_messages_total{run=~"$run"}[30s])) or vector(0)))`,
        'inflow − outflow',
      ),
    ],
    { unit: 'ops', description: 'LabConsumerLagGrowing fires when this stays above 1 for 15 s.' },
  ),
  timeseries(
    'Consumer processing p99',
    [
      target(
        `histogram_quantile(0.99, sum by (le, mode) (rate(lab_consumer_process_duration_seconds_bucket{run=~"$run"}[${RATE}])))`,
        '{{mode}}',
      ),
    ],
    { unit: 's' },
  ),
];

export const pipeline = dashboard(
  'lab-pipeline',
  'Lab — outbox and consumers',
  'Commands, the outbox relay, consumer-service deliveries, duplicates and the DLQ, per run.',
  [runVar],
  [commands, relay, row('Consumer', ...deliveries, ...dlqAndLag)],
);
