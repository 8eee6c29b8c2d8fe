import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { faultKindsTable } from '../../../src/chaos/faults/describe';
import { findRoot } from '../../../src/lib/config';

describe('the fault kinds table', () => {
  it('in experiments/README.md is the one generated from the registry', () => {
    const readme = fs.readFileSync(path.join(findRoot(), 'experiments', 'README.md'), 'utf8');
    const copy = /<!-- fault-kinds:start -->\n([\s\S]*?)\n<!-- fault-kinds:end -->/.exec(
      readme,
    )?.[1];
    expect(
      copy,
      'regenerate it: node -e "console.log(require(\'./dist/src/chaos/faults/describe\').faultKindsTable())"',
    ).to.equal(faultKindsTable());
  });
});
