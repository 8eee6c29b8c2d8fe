import { expect } from 'chai';
import { metricNamesIn } from '../../src/experiments/preflight';

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
