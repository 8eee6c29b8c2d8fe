/** Lab — cache and database: query-service cache hits, misses and DB loads (stampede), Redis, MariaDB. */
import { dashboard, RATE, row, runVar, target, timeseries } from './builder';

/**
 * One query for hits, misses and stale serves: rate() drops __name__, so each counter gets its own `answer` label
 * (stale serves exist only in soft-ttl mode).
 */
const CACHE_ANSWERS = (
  [
    ['hit', 'lab_query_cache_hits_total'],
    ['miss', 'lab_query_cache_misses_total'],
    ['stale', 'lab_query_stale_serves_total'],
  ] as const
)
  .map(
    ([answer, metric]) =>
      `label_replace(sum(rate(${metric}{run=~"$run"}[${RATE}])), "answer", "${answer}", "", "")`,
  )
  .join(' or ');

const HITS = `sum(rate(lab_query_cache_hits_total{run=~"$run"}[1m])) + (sum(rate(lab_query_stale_serves_total{run=~"$run"}[1m])) or vector(0))`;

const cacheAnswers = [
  timeseries('Cache answers', [target(CACHE_ANSWERS, '{{answer}}')], {
    unit: 'reqps',
    description: 'hits, misses and (soft-ttl) stale serves.',
  }),
  timeseries(
    'Cache hit ratio (stale serves count as hits)',
    [
      target(
        `(${HITS}) / (${HITS} + sum(rate(lab_query_cache_misses_total{run=~"$run"}[1m])))`,
        'hit ratio',
      ),
    ],
    { unit: 'percentunit', description: 'LabCacheHitRatioLow below 50 %.' },
  ),
  timeseries(
    'Product loads sent to MariaDB, per instance',
    [
      target(
        `sum by (exported_instance) (rate(lab_query_db_queries_total{run=~"$run"}[${RATE}]))`,
        '{{exported_instance}}',
      ),
    ],
    {
      unit: 'ops',
      description:
        'A stampede is this line jumping when a hot key expires (LabQueryServiceDbLoadSpike).',
    },
  ),
];

const queryEvents = [
  timeseries(
    'Invalidations applied',
    [
      target(
        `sum by (mode) (rate(lab_query_invalidations_total{run=~"$run"}[${RATE}]))`,
        '{{mode}}',
      ),
    ],
    { unit: 'ops' },
  ),
  timeseries(
    'Request latency p99 by answer source',
    [
      target(
        `histogram_quantile(0.99, sum by (le, source) (rate(lab_query_request_duration_seconds_bucket{run=~"$run"}[${RATE}])))`,
        '{{source}}',
      ),
    ],
    { unit: 's' },
  ),
  timeseries(
    'Change events consumed',
    [target(`sum by (type) (rate(lab_query_events_total{run=~"$run"}[${RATE}]))`, '{{type}}')],
    { unit: 'ops' },
  ),
];

const mariadb = row(
  'MariaDB',
  timeseries(
    'Statements per second',
    [target(`sum(rate(mysql_global_status_questions[${RATE}]))`, 'questions')],
    {
      unit: 'ops',
      description: 'The whole server (LabMysqlQuestionsSpike: above 300/s and 3x its recent rate).',
    },
  ),
  timeseries(
    'Statements by command',
    [
      target(
        `sum by (command) (rate(mysql_global_status_commands_total{command=~"select|insert|update|delete|commit|rollback"}[${RATE}]))`,
        '{{command}}',
      ),
    ],
    { unit: 'ops' },
  ),
  timeseries(
    'Connections',
    [
      target('mysql_global_status_threads_connected', 'connected'),
      target('mysql_global_status_threads_running', 'running'),
    ],
    { unit: 'none' },
  ),
  timeseries(
    'Row lock waits',
    [target(`rate(mysql_global_status_innodb_row_lock_waits[${RATE}])`, 'InnoDB row lock waits')],
    { unit: 'ops', description: 'Outbox relays claiming with SKIP LOCKED should not wait.' },
  ),
);

const redis = row(
  'Redis',
  timeseries(
    'Redis commands per second',
    [target(`sum(rate(redis_commands_processed_total[${RATE}]))`, 'commands')],
    { unit: 'ops' },
  ),
  timeseries(
    'Redis keyspace hits and misses',
    [
      target(`rate(redis_keyspace_hits_total[${RATE}])`, 'hits'),
      target(`rate(redis_keyspace_misses_total[${RATE}])`, 'misses'),
    ],
    { unit: 'ops' },
  ),
  timeseries(
    'Redis clients and memory',
    [
      target('redis_connected_clients', 'clients'),
      target('redis_memory_used_bytes / 1048576', 'memory MiB'),
    ],
    { unit: 'none' },
  ),
  timeseries(
    'Cache errors (Redis unreachable: requests fall back to MariaDB)',
    [
      target(
        `sum(rate(redis_rejected_connections_total[${RATE}])) + (sum(rate(lab_query_cache_errors_total{run=~"$run"}[${RATE}])) or vector(0))`,
        'rejected connections + query-service cache errors',
      ),
    ],
    { unit: 'ops' },
  ),
);

export const cacheDb = dashboard(
  'lab-cache-db',
  'Lab — cache and database',
  'query-service cache hits, misses and DB loads (stampede), Redis, MariaDB.',
  [runVar],
  [row('query-service', ...cacheAnswers, ...queryEvents), mariadb, redis],
);
