import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LabConfig } from '../../src/lib/config';
import { waitFor } from '../../src/lib/wait';
import { signalComponent } from '../../src/runtime/driver/local';
import { serviceStatus } from '../../src/runtime/services';
import { ensureLab } from '../support/lab';

/** A long run with a toxic from the start, so there is something to leave behind when the CLI dies. */
const EXPERIMENT = `id: E-901
title: Long run with a toxic, to be interrupted
description: used by the interruption tests only
expected: controlled
services:
  command-service: { modes: { COMMAND_MODE: outbox } }
workload: { kind: commands, commands: 5000, products: 5, ratePerSec: 10 }
method:
  - name: slow redis
    at: start
    fault: { type: latency, proxy: redis, latencyMs: 5 }
steady-state-hypothesis:
  title: n/a
  probes:
    - { name: committed, type: audit, figure: committed, tolerance: { gt: 0 } }
`;

describe('interrupting an experiment', function () {
  this.timeout(180_000);
  let c: LabConfig;
  let file: string;
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(c.root, 'bin/run.js'), ...args], {
      cwd: c.root,
      encoding: 'utf8',
      timeout: 60_000,
    });
  const toxics = async () =>
    (
      (await (
        await fetch(`http://${c.host}:${c.ports.toxiproxy}/proxies/redis/toxics`)
      ).json()) as unknown[]
    ).length;
  const running = async () =>
    (await serviceStatus(c)).filter((s) => s.running).map((s) => s.service);

  before(async () => {
    c = await ensureLab();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-int-'));
    fs.mkdirSync(path.join(dir, 'E-901-interrupt'));
    file = path.join(dir, 'E-901-interrupt', 'experiment.yaml');
    fs.writeFileSync(file, EXPERIMENT);
  });

  async function startRun(): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      [
        path.join(c.root, 'bin/run.js'),
        'exp',
        'run',
        file,
        '--report',
        path.join(path.dirname(file), 'report'),
      ],
      { cwd: c.root, stdio: 'ignore' },
    );
    await waitFor(
      'the run to be under way (toxic on, command-service up)',
      async () => (await toxics()) > 0 && (await running()).includes('command-service'),
      { timeoutMs: 90_000, intervalMs: 300 },
    );
    return child;
  }

  it('leaves the toxic and services behind when the CLI is killed -9, and `chaos heal` + `chaos services down` remove them', async () => {
    const child = await startRun();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await toxics()).to.equal(1); // faults live in Toxiproxy, not in the CLI: they survive it
    expect(cli('heal').status).to.equal(0);
    expect(cli('services', 'down').status).to.equal(0);
    expect(await toxics()).to.equal(0);
    expect(await running()).to.deep.equal([]);
  });

  it('rolls everything back by itself on Ctrl-C, and writes a partial report', async () => {
    const child = await startRun();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c2) => r(c2)));
    expect(code).to.equal(130);
    expect(await toxics()).to.equal(0);
    expect(await running()).to.deep.equal([]);
    const journal = JSON.parse(
      fs.readFileSync(path.join(path.dirname(file), 'report', 'journal.json'), 'utf8'),
    );
    expect(journal.outcome).to.equal('interrupted');
  });

  /** Ctrl-C in the middle of a real experiment: exit 130, `interrupted`, every fault's rollback recorded, nothing left. */
  async function interruptRealRun(id: string, side: string, underWay: () => Promise<boolean>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lab-int-${id}-`));
    // One side, so the run writes its report straight into DIR.
    const child = spawn(
      process.execPath,
      [path.join(c.root, 'bin/run.js'), 'exp', 'run', id, '--side', side, '--report', dir],
      { cwd: c.root, stdio: 'ignore' },
    );
    await waitFor(`${id} to be under way`, underWay, { timeoutMs: 150_000, intervalMs: 300 });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c2) => r(c2)));
    const journal = JSON.parse(fs.readFileSync(path.join(dir, 'journal.json'), 'utf8')) as {
      outcome: string;
      rollbacks: { name: string; status: string; origin: string }[];
    };
    return { code, journal };
  }

  const mysqlToxics = async () =>
    (
      (await (
        await fetch(`http://${c.host}:${c.ports.toxiproxy}/proxies/mysql/toxics`)
      ).json()) as unknown[]
    ).length;

  it('interrupts E-001 mid-workload: exit 130, outcome interrupted, its failpoint disarmed and services stopped on the record', async () => {
    const { code, journal } = await interruptRealRun(
      'E-001',
      'pattern',
      async () =>
        (await running()).includes('outbox-relay') &&
        (await running()).includes('consumer-service'),
    );
    expect(code).to.equal(130);
    expect(journal.outcome).to.equal('interrupted');
    expect(journal.rollbacks.filter((r) => r.status !== 'ok')).to.deep.equal([]);
    expect(journal.rollbacks.map((r) => r.name)).to.include('stop the experiment\u2019s services');
    expect(await running()).to.deep.equal([]);
  });

  it('interrupts E-008 during a storm: exit 130, outcome interrupted, the latency toxic removed on the record', async () => {
    const { code, journal } = await interruptRealRun(
      'E-008',
      'anti-pattern',
      async () => (await mysqlToxics()) > 0,
    );
    expect(code).to.equal(130);
    expect(journal.outcome).to.equal('interrupted');
    const storm = journal.rollbacks.filter((r) => r.origin.startsWith('the DB answers late'));
    expect(storm, 'the storm step\u2019s rollback').to.have.length.greaterThan(0);
    expect(storm.every((r) => r.status === 'ok')).to.equal(true);
    expect(await mysqlToxics()).to.equal(0);
    expect(await running()).to.deep.equal([]);
  });

  it('ends `failed` (exit 4) when a rollback cannot run — Toxiproxy gone — and the journal and report say what is left', async () => {
    const child = await startRun();
    signalComponent(c, 'toxiproxy', 'kill'); // the toxic's undo now has nobody to talk to
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c2) => r(c2)));
    try {
      expect(code).to.equal(4);
      const report = path.join(path.dirname(file), 'report');
      const journal = JSON.parse(fs.readFileSync(path.join(report, 'journal.json'), 'utf8')) as {
        outcome: string;
        rollbacks: { name: string; status: string; fix?: string; leftover?: string }[];
      };
      expect(journal.outcome).to.equal('failed');
      const failed = journal.rollbacks.filter((r) => r.status === 'failed');
      expect(failed.map((r) => r.fix)).to.include('chaos heal');
      const md = fs.readFileSync(path.join(report, 'report.md'), 'utf8');
      expect(md)
        .to.match(/## Rollbacks/)
        .and.match(/✘ FAILED/)
        .and.match(/remove with `chaos heal`/);
    } finally {
      expect(cli('up').status, 'chaos up brings Toxiproxy back').to.equal(0);
      cli('services', 'down');
    }
  });
});
