import { expect } from 'chai';
import type { Progress } from '../../../src/runtime/progress';
import { progressLine, runTracked, TrackedCommandError } from '../../../src/runtime/provision/tracked-command';

const recording = () => {
  const lines: string[] = [];
  const progress: Progress = { step: (m) => lines.push(m), done: (m) => lines.push(m) };
  return { lines, progress };
};

describe('progress of a provisioning command', () => {
  it('shows "n of N" with an ETA from the rate so far', () => {
    expect(progressLine('Kafka jars', 'jars', { done: 25, total: 100 }, 0, 10_000)).to.equal('Kafka jars: 25 of 100 jars, ETA 30 s');
  });

  it('leaves cached units out of the rate', () => {
    // 60 were in ~/.m2 already; 10 downloaded in 10 s → 30 left at 1/s
    expect(progressLine('Kafka jars', 'jars', { done: 70, total: 100, from: 60 }, 0, 10_000)).to.equal('Kafka jars: 70 of 100 jars, ETA 30 s');
  });

  it('shows no ETA before anything is done, and a count with the time spent when the total is unknown or passed', () => {
    expect(progressLine('x', 'jars', { done: 0, total: 10 }, 0, 5_000)).to.equal('x: 0 of 10 jars');
    expect(progressLine('x', 'lists fetched', { done: 7 }, 0, 4_000)).to.equal('x: 7 lists fetched, 4 s');
    expect(progressLine('x', 'jars', { done: 12, total: 10 }, 0, 4_000)).to.equal('x: 12 jars, 4 s');
  });

  it('counts the lines of a real command as they come, and ends with the final count', async () => {
    const { lines, progress } = recording();
    const out = await runTracked({
      cmd: 'sh', args: ['-c', 'for i in 1 2 3 4; do echo "Downloaded from central: a$i.jar (1 kB)"; sleep 0.2; done; echo other >&2'],
      timeoutMs: 10_000, label: 'jars', unit: 'jars', total: 4, everyMs: 100,
      onLine: (l, c) => { if (l.startsWith('Downloaded')) c.done++; },
    }, progress);
    expect(out).to.contain('a4.jar').and.contain('other');
    expect(lines.at(-1)).to.equal('jars: 4 of 4 jars');
    expect(lines.some((l) => /^jars: [123] of 4 jars/.test(l)), lines.join('\n')).to.equal(true);
  });

  it('fails with the exit code and keeps the output for the error message', async () => {
    const err = await runTracked({ cmd: 'sh', args: ['-c', 'echo "E: Unable to locate package nope"; exit 100'], timeoutMs: 10_000, label: 'apt', unit: '%', onLine: () => {} }, recording().progress).catch((e) => e);
    expect(err).to.be.instanceOf(TrackedCommandError);
    expect(err.message).to.contain('exit code 100');
    expect(err.output).to.contain('Unable to locate package nope');
  });

  it('kills a command that outlives its timeout and says so', async () => {
    const err = await runTracked({ cmd: 'sleep', args: ['30'], timeoutMs: 300, label: 's', unit: 'x', onLine: () => {} }, recording().progress).catch((e) => e);
    expect(err.message).to.contain('timed out after 0.3 s');
  });

  it('reports a missing binary as an error, not a crash', async () => {
    const err = await runTracked({ cmd: 'no-such-binary-here', args: [], timeoutMs: 1000, label: 's', unit: 'x', onLine: () => {} }, recording().progress).catch((e) => e);
    expect(err.message).to.match(/could not start: .*ENOENT/);
  });
});
