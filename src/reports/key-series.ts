import type { PrometheusClient } from '../lib/prometheus';
import { alertsDuring } from './alerts';
import type { Observations, Plot } from './types';

/** One line (or one line per label set) of a report plot. `$RUN` is the run id; `$TOPIC` the run's topic. */
export interface KeyQuery {
  name: string;
  expr: string;
}
export interface KeyPlot {
  title: string;
  unit?: string;
  queries: KeyQuery[];
}

/**
 * The series every report plots. Lab series are filtered by the run's own `run` label, brokers' by its topic;
 * MariaDB and Redis exporters have no notion of a run (global rates, but nothing else runs during an experiment).
 * Rates use 5 s windows on the 1 s service scrape and 15 s on the 5 s broker scrape.
 */
export const KEY_PLOTS: KeyPlot[] = [
  {
    title: 'Commands', unit: 'per s',
    queries: [{ name: 'result', expr: 'sum by (result) (rate(lab_command_requests_total{run="$RUN"}[5s]))' }],
  },
  {
    title: 'Events into the topic', unit: 'per s',
    queries: [
      { name: 'relay published', expr: 'sum(rate(lab_outbox_relay_published_total{run="$RUN"}[5s]))' },
      { name: 'direct produced', expr: 'sum(rate(lab_command_events_produced_total{run="$RUN"}[5s]))' },
      { name: 'DLQ replayed', expr: 'sum(rate(lab_replay_messages_total{run="$RUN"}[5s]))' },
      { name: 'broker messages in', expr: 'sum(rate(kafka_server_brokertopicmetrics_messagesin_total{topic="$TOPIC"}[15s]))' },
    ],
  },
  {
    title: 'Consumer lag (records in the topic − deliveries handled)', unit: 'records',
    queries: [{
      name: 'lag estimate',
      // Log end offsets (max over replicas) minus every delivery the consumer's incarnations handled so far;
      // redeliveries count as handled, so this is a lower bound of the group's lag.
      expr: 'sum(max by (partition) (kafka_log_log_logendoffset{topic="$TOPIC"})) - (sum(max_over_time(lab_consumer_messages_total{run="$RUN"}[1h])) or vector(0))',
    }],
  },
  {
    title: 'Consumer deliveries', unit: 'per s',
    queries: [
      { name: 'result', expr: 'sum by (result) (rate(lab_consumer_messages_total{run="$RUN"}[5s]))' },
      { name: 'retries', expr: 'sum(rate(lab_consumer_retries_total{run="$RUN"}[5s]))' },
    ],
  },
  {
    title: 'Outbox backlog', unit: 'rows',
    queries: [
      { name: 'unpublished rows', expr: 'sum(lab_outbox_backlog{run="$RUN"})' },
      { name: 'oldest row age (s)', expr: 'max(lab_outbox_oldest_unpublished_age_seconds{run="$RUN"})' },
    ],
  },
  {
    title: 'Produce errors', unit: 'per s',
    queries: [
      { name: 'direct produce failures', expr: 'sum(rate(lab_command_produce_failures_total{run="$RUN"}[5s]))' },
      { name: 'relay batch errors', expr: 'sum(rate(lab_outbox_relay_batches_total{run="$RUN",result="error"}[5s]))' },
      { name: 'broker', expr: 'sum by (error) (rate(kafka_network_requestmetrics_errors_total{request="Produce",error!="NONE"}[15s]))' },
    ],
  },
  {
    title: 'Database', unit: 'queries/s',
    queries: [
      { name: 'MariaDB statements', expr: 'sum(rate(mysql_global_status_questions[5s]))' },
      { name: 'query-service product loads', expr: 'sum(rate(lab_query_db_queries_total{run="$RUN"}[5s]))' },
    ],
  },
  {
    title: 'Cache', unit: 'per s',
    queries: [
      { name: 'hits', expr: 'sum(rate(lab_query_cache_hits_total{run="$RUN"}[5s]))' },
      { name: 'misses', expr: 'sum(rate(lab_query_cache_misses_total{run="$RUN"}[5s]))' },
      { name: 'stale serves', expr: 'sum(rate(lab_query_stale_serves_total{run="$RUN"}[5s]))' },
    ],
  },
  {
    title: 'Kafka replication', unit: 'partitions',
    queries: [
      { name: 'under-replicated', expr: 'sum(kafka_server_replicamanager_underreplicatedpartitions)' },
      { name: 'under min ISR', expr: 'sum(kafka_server_replicamanager_underminisrpartitioncount)' },
      { name: 'offline', expr: 'max(kafka_controller_kafkacontroller_offlinepartitionscount)' },
    ],
  },
];

export const renderKeyQuery = (expr: string, run: { runId: string; topic: string }) => expr.replace(/\$RUN\b/g, run.runId).replace(/\$TOPIC\b/g, run.topic);

function seriesName(q: KeyQuery, metric: Record<string, string>): string {
  const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
  if (!labels.length) return q.name;
  if (labels.length === 1 && labels[0][0] === q.name) return labels[0][1];
  return `${q.name} ${labels.map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

/**
 * Range queries over the run window for every key plot, and the alerts that were pending or firing meanwhile.
 * A failing query is recorded in `errors` and does not stop the others: a report with some plots beats none.
 */
export async function collectObservations(
  prom: PrometheusClient,
  run: { runId: string; topic: string; startSec: number; endSec: number },
  plots: KeyPlot[] = KEY_PLOTS,
): Promise<Observations> {
  const { startSec, endSec } = run;
  const stepSec = Math.max(1, Math.round((endSec - startSec) / 300));
  const obs: Observations = { version: 1, window: { startSec, endSec, stepSec }, plots: [], empty: [], alerts: [], errors: [] };
  for (const kp of plots) {
    const plot: Plot = { title: kp.title, ...(kp.unit ? { unit: kp.unit } : {}), series: [] };
    for (const q of kp.queries) {
      const expr = renderKeyQuery(q.expr, run);
      try {
        const res = await prom.range(expr, startSec, endSec, stepSec);
        if (!res.length) obs.empty.push({ title: `${kp.title}: ${q.name}`, query: expr });
        for (const s of res) plot.series.push({ name: seriesName(q, s.metric), points: s.values.map(([t, v]) => [Number((t - startSec).toFixed(3)), v]) });
      } catch (err) {
        obs.errors.push(`${kp.title}: ${q.name}: ${(err as Error).message}`);
      }
    }
    obs.plots.push(plot);
  }
  try {
    obs.alerts = await alertsDuring(prom, startSec, endSec);
  } catch (err) {
    obs.errors.push(`alerts: ${(err as Error).message}`);
  }
  return obs;
}
