import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { supervisorFor } from '../../src/runtime/stack';
import { ensureLab } from '../support/lab';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');

describe('--json output', function () {
  this.timeout(180_000);

  it('is one JSON document on stdout while progress lines go to stderr (chaos up restarting a stopped component)', async () => {
    const c = await ensureLab();
    await supervisorFor(c).stop('prometheus'); // something for `up` to start, so it has progress to show
    const { stdout, stderr } = await run(process.execPath, ['bin/run.js', 'up', '--json'], {
      cwd: root,
      timeout: 150_000,
    });
    const out = JSON.parse(stdout) as { started: string[] };
    expect(out.started).to.include('prometheus');
    expect(stderr).to.match(/✓ prometheus healthy \(\d+\.\d s\)/);
    expect(stderr).to.match(/✓ prometheus targets/);
  });
});
