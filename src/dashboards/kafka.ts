/** Lab — Kafka: brokers, ISR and replication, offsets (LEO, HW, LSO), lag, produce errors. */
import { dashboard, row, stat, target, timeseries, topicVar, runVar, ZERO_GOOD } from './builder';

const small = { w: 6, h: 5, unit: 'none' };

const brokers = row(
  'Brokers',
  stat('Brokers scraped (up)', [target('up{job="kafka"}', 'broker {{broker}}')], {
    ...small,
    description:
      'JMX exporter of each broker answers (scraped every 5 s). A killed broker shows 0; a paused one stops answering too.',
  }),
  stat('Broker state', [target('kafka_server_kafkaserver_brokerstate', 'broker {{broker}}')], {
    ...small,
    description: '3 = running (RUNNING), 6/7 = shutting down/pending controlled shutdown.',
  }),
  stat(
    'Active controllers',
    [target('sum(kafka_controller_kafkacontroller_activecontrollercount)', 'active')],
    { ...small, description: 'Exactly 1 in a healthy KRaft quorum.' },
  ),
  stat(
    'Offline partitions',
    [target('max(kafka_controller_kafkacontroller_offlinepartitionscount)', 'offline')],
    { ...small, thresholds: ZERO_GOOD },
  ),
);

const replication = row(
  'Replication (ISR)',
  timeseries(
    'Under-replicated / under-min-ISR partitions',
    [
      target(
        'sum by (broker) (kafka_server_replicamanager_underreplicatedpartitions)',
        'under-replicated, leader {{broker}}',
      ),
      target(
        'sum by (broker) (kafka_server_replicamanager_underminisrpartitioncount)',
        'under min ISR, leader {{broker}}',
      ),
    ],
    {
      description:
        'A follower out of the ISR (LabKafkaUnderReplicatedPartitions); below min.insync.replicas=2 acks=all writes are refused.',
    },
  ),
  timeseries(
    'ISR size per partition',
    [
      target(
        'max by (topic, partition) (kafka_cluster_partition_insyncreplicascount{topic=~"$topic"})',
        '{{topic}}-{{partition}}',
      ),
    ],
    { unit: 'none', description: 'Reported by each partition leader; RF is 3.' },
  ),
  timeseries(
    'ISR shrinks and expands',
    [
      target(
        'sum by (broker) (rate(kafka_server_replicamanager_isrshrinks_total[1m]))',
        'shrinks, broker {{broker}}',
      ),
      target(
        'sum by (broker) (rate(kafka_server_replicamanager_isrexpands_total[1m]))',
        'expands, broker {{broker}}',
      ),
    ],
    { unit: 'ops' },
  ),
  timeseries(
    'Partitions led per broker',
    [target('kafka_server_replicamanager_leadercount', 'broker {{broker}}')],
    { unit: 'none', description: 'Leadership moves when a broker dies and comes back.' },
  ),
);

const offsets = row(
  'Offsets and lag',
  timeseries(
    'Log end offset per partition (max over replicas)',
    [
      target(
        'max by (topic, partition) (kafka_log_log_logendoffset{topic=~"$topic"})',
        '{{topic}}-{{partition}}',
      ),
    ],
    { unit: 'none' },
  ),
  timeseries(
    'High watermark and last stable offset per partition',
    [
      target(
        'max by (topic, partition) (lab_kafka_partition_hw{topic=~"$topic"})',
        'HW {{topic}}-{{partition}}',
      ),
      target(
        'max by (topic, partition) (lab_kafka_partition_lso{topic=~"$topic"})',
        'LSO {{topic}}-{{partition}}',
      ),
    ],
    {
      unit: 'none',
      description:
        'From the lab gauges lab_kafka_partition_hw / lab_kafka_partition_lso. LSO < HW while a transaction is open: read_committed consumers stop at the LSO.',
    },
  ),
  timeseries(
    'LSO lag (open transactions)',
    [
      target(
        'max by (topic, partition) (kafka_cluster_partition_laststableoffsetlag{topic=~"$topic"})',
        '{{topic}}-{{partition}}',
      ),
    ],
    {
      unit: 'none',
      description:
        'Log end offset minus last stable offset, from the brokers (LabKafkaLastStableOffsetStuck).',
    },
  ),
  timeseries(
    'Consumer lag estimate per run (records in the topic − deliveries handled)',
    [
      target(
        'sum by (run) (label_replace(max by (topic, partition) (kafka_log_log_logendoffset{topic=~"lab[.]exp[.]($run)"}), "run", "$1", "topic", "lab[.]exp[.](.*)")) - sum by (run) (max_over_time(lab_consumer_messages_total{run=~"$run"}[$__range]))',
        '{{run}}',
      ),
    ],
    {
      unit: 'none',
      description:
        "No lab service exports the group lag: records in the run's topic (log end offsets) minus every delivery consumer-service handled, summed over its incarnations. Redeliveries count as handled, so this under-estimates lag after a crash. `chaos offsets <topic> --group <g>` shows the exact lag.",
    },
  ),
);

const produce = row(
  'Produce path',
  timeseries(
    'Messages in per topic',
    [
      target(
        'sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesin_total{topic=~"$topic"}[1m]))',
        '{{topic}}',
      ),
    ],
    { unit: 'ops' },
  ),
  timeseries(
    'Produce requests by error code',
    [
      target(
        'sum by (error) (rate(kafka_network_requestmetrics_errors_total{request="Produce"}[1m]))',
        '{{error}}',
      ),
    ],
    {
      unit: 'reqps',
      description:
        'NONE = success. NOT_ENOUGH_REPLICAS(_AFTER_APPEND) = ISR below min.insync.replicas (LabKafkaNotEnoughReplicasErrors).',
    },
  ),
  timeseries(
    'Failed produce requests',
    [
      target(
        'sum by (broker) (rate(kafka_server_brokertopicmetrics_failedproducerequests_total{topic=""}[1m]))',
        'broker {{broker}}',
      ),
    ],
    { unit: 'reqps', thresholds: ZERO_GOOD },
  ),
  timeseries(
    'Produce latency p99',
    [
      target(
        'max by (broker) (kafka_network_requestmetrics_totaltimems{request="Produce",quantile="0.99"})',
        'broker {{broker}}',
      ),
    ],
    { unit: 'ms' },
  ),
);

export const kafka = dashboard(
  'lab-kafka',
  'Lab — Kafka',
  'Brokers, ISR and replication, offsets (LEO, HW, LSO), lag, produce errors.',
  [topicVar, runVar],
  [brokers, replication, offsets, produce],
);
