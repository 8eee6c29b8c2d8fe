import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { loadConfig } from '../../src/lib/config';
import { runtimeDriver } from '../../src/runtime/driver';
import { dockerDriver, DockerRuntimeError } from '../../src/runtime/driver/docker';
import { fakeDockerEngine } from '../support/fake-docker';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');

describe('docker runtime driver (what it sends to the Docker Engine API)', () => {
  let engine: Awaited<ReturnType<typeof fakeDockerEngine>>;
  beforeEach(async () => {
    engine = await fakeDockerEngine({ 'lab-kafka-1': {}, 'lab-kafka-2': { paused: true }, 'lab-command-service': {} });
  });
  afterEach(() => engine.close());

  const driver = () => dockerDriver(loadConfig({ LAB_RUNTIME: 'docker' }), new Docker({ socketPath: engine.socketPath }));

  it('kills a broker with SIGKILL, pauses, unpauses and starts it by its compose container name', async () => {
    const d = driver();
    await d.kill('kafka-1');
    await d.pause('kafka-1');
    await d.resume('kafka-1');
    await d.revive('kafka-1');
    expect(engine.calls).to.deep.equal([
      { method: 'POST', path: '/containers/lab-kafka-1/kill?signal=SIGKILL' },
      { method: 'POST', path: '/containers/lab-kafka-1/pause' },
      { method: 'POST', path: '/containers/lab-kafka-1/unpause' },
      { method: 'POST', path: '/containers/lab-kafka-1/start' },
    ]);
  });

  it('heals by unpausing only the containers that are paused', async () => {
    const { resumed, failed } = await driver().resumeAll(['kafka-1', 'kafka-2', 'kafka-3']);
    expect(resumed).to.deep.equal(['kafka-2']);
    expect(failed, 'kafka-3 has no container: nothing paused, nothing failed').to.deep.equal([]);
    expect(engine.calls.filter((c) => c.method === 'POST')).to.deep.equal([{ method: 'POST', path: '/containers/lab-kafka-2/unpause' }]);
  });

  it('names the missing container and the fix when the stack is not up', async () => {
    const err = await driver().kill('kafka-3').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DockerRuntimeError);
    expect((err as Error).message).to.match(/no container lab-kafka-3: start the stack with `docker compose up -d`/);
  });

  it('is what LAB_RUNTIME=docker selects, and local stays the default', () => {
    expect(runtimeDriver(loadConfig({ LAB_RUNTIME: 'docker' })).name).to.equal('docker');
    expect(runtimeDriver(loadConfig({})).name).to.equal('local');
    expect(() => loadConfig({ LAB_RUNTIME: 'podman' })).to.throw(/LAB_RUNTIME=podman is invalid: expected one of local, docker/);
  });

  it('carries `chaos inject` faults when the CLI runs with --runtime docker (DOCKER_HOST on the fake engine)', async () => {
    const env = { ...process.env, DOCKER_HOST: `unix://${engine.socketPath}`, LAB_RUNTIME: '' };
    const pause = await run(process.execPath, ['bin/run.js', 'inject', 'broker-pause', '--target', 'kafka-2', '--runtime', 'docker', '--json'], { cwd: root, env, timeout: 30_000 });
    expect(JSON.parse(pause.stdout).result).to.match(/^pause kafka-2/);
    await run(process.execPath, ['bin/run.js', 'inject', 'service-crash', '--target', 'command-service'], { cwd: root, env: { ...env, LAB_RUNTIME: 'docker' }, timeout: 30_000 });
    expect(engine.calls.filter((c) => c.method === 'POST')).to.deep.equal([
      { method: 'POST', path: '/containers/lab-kafka-2/pause' },
      { method: 'POST', path: '/containers/lab-command-service/kill?signal=SIGKILL' },
    ]);
  });
});
