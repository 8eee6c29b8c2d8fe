import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { firedCrash } from '../../../src/runtime/services';
import { tailFile } from '../../../src/runtime/supervisor';

const appModule = path.resolve(__dirname, '../../../src/services/common/app.js');

/** Runs a process that arms `spec` at boot and passes the failpoint once; its stdout and stderr go to a log file. */
function passFailpointOnce(
  spec: string,
  logLevel: string,
): { log: string; signal: NodeJS.Signals | null } {
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-app-')), 'service.log');
  fs.writeFileSync(logFile, `\n=== ${new Date().toISOString()} starting test\n`);
  const fd = fs.openSync(logFile, 'a');
  const script = `
    const { serviceContext } = require(${JSON.stringify(appModule)});
    const { Registry } = require('prom-client');
    const ctx = serviceContext('outbox-relay', new Registry());
    ctx.failpoints.hit('relay.before-publish').then(() => process.exit(0), () => process.exit(3));`;
  const run = spawnSync(process.execPath, ['-e', script], {
    env: {
      ...process.env,
      LAB_LOG_LEVEL: logLevel,
      LAB_FAILPOINTS: spec,
      LAB_CRASH_SCRAPE_WAIT_MS: '0',
    },
    stdio: ['ignore', fd, fd],
    timeout: 20_000,
  });
  fs.closeSync(fd);
  return { log: tailFile(logFile, 200), signal: run.signal };
}

describe('a lab service process', function () {
  this.timeout(30_000);

  it('leaves the crash mark its supervisor reads in its log when a crash failpoint kills it, even at LAB_LOG_LEVEL=silent', () => {
    const { log, signal } = passFailpointOnce('relay.before-publish=crash@1', 'silent');
    expect(signal, 'killed by the failpoint').to.equal('SIGKILL');
    expect(firedCrash(log), log).to.equal(true);
  });

  it('leaves no crash mark when the failpoint it passed only delays', () => {
    const { log, signal } = passFailpointOnce('relay.before-publish=delay:1@1', 'info');
    expect(signal).to.equal(null);
    expect(firedCrash(log), log).to.equal(false);
  });
});
