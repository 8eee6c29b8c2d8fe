import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/lib/config';
import type { Progress } from '../../../src/runtime/progress';
import { ensureKafkaDist } from '../../../src/runtime/provision/kafka-dist';

/**
 * Real Maven, the real pom: the jar count the dependency tree announces is the count that lands in libs/, so
 * "n of N jars" ends at N. Into a scratch directory (the lab's own copy is left alone); jars come from ~/.m2
 * when `chaos up` ran before, else from Maven Central.
 */
describe('provisioning the Kafka jars with Maven', function () {
  this.timeout(600_000);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-kafka-dist-'));
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('announces as many jars as it copies, and shows the count as it goes', async () => {
    const c = loadConfig();
    const lines: string[] = [];
    const progress: Progress = { step: (m) => lines.push(m), done: (m) => lines.push(m) };
    const libs = path.join(scratch, 'libs');
    await ensureKafkaDist(c.root, libs, c.kafkaVersion, progress);
    const copied = fs.readdirSync(libs).filter((f) => f.endsWith('.jar')).length;
    const announced = lines.map((l) => /: (\d+) jars, (\d+) already in/.exec(l)).find(Boolean);
    expect(announced, lines.join('\n')).to.not.equal(undefined);
    expect(Number(announced![1]), 'jars in the dependency tree vs jars copied').to.equal(copied);
    expect(fs.existsSync(path.join(libs, '.complete'))).to.equal(true);
    // idempotent: a finished copy is not resolved again
    const again: string[] = [];
    await ensureKafkaDist(c.root, libs, c.kafkaVersion, { step: (m) => again.push(m), done: (m) => again.push(m) });
    expect(again).to.deep.equal([]);
  });
});
