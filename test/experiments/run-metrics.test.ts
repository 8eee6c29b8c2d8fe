import { expect } from 'chai';
import { OUTCOME_SEVERITY } from '../../src/experiments/engine';
import { verdictValue } from '../../src/experiments/run-metrics';

describe('run metrics', () => {
  it('gives lab_experiment_verdict 1 for a pass, 0 for a deviation, and below 0 when there is no verdict', () => {
    const values = Object.fromEntries(
      OUTCOME_SEVERITY.map((outcome) => [outcome, verdictValue({ outcome })]),
    );
    expect(values).to.deep.equal({
      completed: 1,
      deviated: 0,
      inconclusive: -2,
      aborted: -1,
      failed: -1,
      interrupted: -1,
    });
  });
});
