import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isSameProcess, Supervisor } from '../../src/runtime/supervisor';
import { withStackLock } from '../../src/runtime/lock';

describe('Supervisor', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-sup-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stops a process by its pidfile even from a fresh supervisor (the CLI that started it is gone)', async () => {
    const rec = new Supervisor(`${dir}/run`, `${dir}/logs`).start({ name: 'sleeper', command: 'sleep', args: ['300'] });
    expect(isSameProcess(rec)).to.equal(true);
    const fresh = new Supervisor(`${dir}/run`, `${dir}/logs`);
    expect(await fresh.stop('sleeper')).to.equal(true);
    expect(isSameProcess(rec)).to.equal(false);
    expect(fresh.list()).to.deep.equal([]);
  });

  it('kills the whole process group, children included', async () => {
    const sup = new Supervisor(`${dir}/run`, `${dir}/logs`);
    const rec = sup.start({ name: 'parent', command: 'sh', args: ['-c', 'sleep 300 & echo $! > child.pid; wait'], cwd: dir });
    for (let i = 0; i < 50 && !fs.existsSync(`${dir}/child.pid`); i++) await new Promise((r) => setTimeout(r, 50));
    const child = Number(fs.readFileSync(`${dir}/child.pid`, 'utf8'));
    await sup.stop('parent', 2000);
    expect(isSameProcess(rec)).to.equal(false);
    // (gone, or a zombie waiting for a reaper: either way no longer running)
    expect(isSameProcess({ ...rec, pid: child, startTicks: 0 })).to.equal(false);
  });

  it('refuses to signal a recycled pid (kernel start time differs)', async () => {
    const sup = new Supervisor(`${dir}/run`, `${dir}/logs`);
    const rec = sup.start({ name: 'x', command: 'sleep', args: ['300'] });
    fs.writeFileSync(sup.pidFile('impostor'), JSON.stringify({ ...rec, name: 'impostor', startTicks: rec.startTicks + 1 }));
    expect(sup.isAlive('impostor')).to.equal(false);
    expect(await sup.stop('impostor')).to.equal(false);
    expect(isSameProcess(rec)).to.equal(true); // the real owner of the pid was left alone
    await sup.stop('x');
  });

  it('reports the log tail of a component', () => {
    const sup = new Supervisor(`${dir}/run`, `${dir}/logs`);
    fs.writeFileSync(sup.logFile('y'), 'a\nb\nc\n');
    expect(sup.logTail('y', 2)).to.contain('c');
  });
});

describe('stack lock', () => {
  it('refuses a second concurrent up/down while a live process holds it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-lock-'));
    fs.writeFileSync(path.join(dir, 'stack.lock'), `${process.ppid} up`);
    try {
      await withStackLock(dir, 'down', async () => 1);
      expect.fail('should have refused');
    } catch (e) {
      expect((e as Error).message).to.match(/another `chaos up` \(pid \d+\) is running/);
    }
    fs.writeFileSync(path.join(dir, 'stack.lock'), `999999999 up`); // dead holder: taken over
    expect(await withStackLock(dir, 'down', async () => 7)).to.equal(7);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
