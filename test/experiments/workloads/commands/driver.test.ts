import { expect } from 'chai';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Step } from '../../../../src/experiments/workloads/api';
import { runWorkload } from '../../../../src/experiments/workloads/commands/driver';
import { silentProgress } from '../../../../src/runtime/progress';

interface Seen {
  method: string;
  url: string;
  body: string;
}

/** A tiny command-service (and query-service) on 127.0.0.1: records every request, answers `status(req)`. */
async function fakeService(status: (r: Seen) => number = () => 200) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', body };
      seen.push(r);
      const code = status(r);
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(code === 200 ? '{}' : 'boom');
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, url, close: () => new Promise<void>((res) => server.close(() => res())) };
}

/** A port nothing listens on: connecting to it is refused. */
async function refusedUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((res) => server.close(() => res()));
  return `http://127.0.0.1:${port}`;
}

const spec = { commands: 12, products: 4, payloadBytes: 0, ratePerSec: 1000, concurrency: 3 };
const step = (name: string, at: Step['at']) =>
  ({ name, at, fault: { kind: 'noop' } }) as unknown as Step;

describe('the command driver (against a local HTTP server)', () => {
  let svc: Awaited<ReturnType<typeof fakeService>> | undefined;
  afterEach(async () => svc?.close());

  it('sends every seeded command once: creates as POST /products, updates as PUT /products/<id>', async () => {
    svc = await fakeService();
    const url = svc.url;
    const stats = await runWorkload(spec, 42, {
      commandUrl: () => url,
      steps: [],
      fire: async () => {},
      progress: silentProgress,
    });
    expect(stats).to.include({ sent: 12, ok: 12, failed: 0, retried: 0 });
    expect(stats.latenciesMs).to.have.length(12);
    const posts = svc.seen.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.url)).to.deep.equal(Array(4).fill('/products'));
    expect(
      svc.seen.filter((r) => r.method === 'PUT').every((r) => /^\/products\/[1-4]$/.test(r.url)),
    ).to.equal(true);
  });

  it('counts an error answer as a failed command and keeps its status and body', async () => {
    svc = await fakeService((r) => (r.method === 'PUT' ? 500 : 200));
    const url = svc.url;
    const stats = await runWorkload(spec, 42, {
      commandUrl: () => url,
      steps: [],
      fire: async () => {},
      progress: silentProgress,
    });
    expect(stats).to.include({ sent: 12, ok: 4, failed: 8 });
    expect(stats.failures[0]).to.include({ kind: 'update', error: 'HTTP 500 boom' });
  });

  it('retries a command refused at connect time (the service restarting): it was never received', async () => {
    svc = await fakeService();
    const [refused, url] = [await refusedUrl(), svc.url];
    let calls = 0;
    const stats = await runWorkload({ ...spec, commands: 1, concurrency: 1 }, 42, {
      commandUrl: () => (calls++ === 0 ? refused : url),
      steps: [],
      fire: async () => {},
      progress: silentProgress,
    });
    expect(stats).to.include({ sent: 1, ok: 1, failed: 0, retried: 1 });
    expect(svc.seen).to.have.length(1);
  });

  it('reads each changed product back through query-service when asked to', async () => {
    svc = await fakeService();
    const url = svc.url;
    await runWorkload({ ...spec, commands: 3, concurrency: 1 }, 42, {
      commandUrl: () => url,
      queryUrl: () => url,
      steps: [],
      fire: async () => {},
      progress: silentProgress,
    });
    expect(svc.seen.map((r) => `${r.method} ${r.url}`)).to.deep.equal([
      'POST /products',
      'GET /products/1',
      'POST /products',
      'GET /products/2',
      'POST /products',
      'GET /products/3',
    ]);
  });

  it('fires a step once its command count is reached, and a step timed after the last command at the end', async () => {
    svc = await fakeService();
    const url = svc.url;
    const fired: { name: string; sentBefore: number }[] = [];
    const steps = [step('early', { afterCommands: 5 }), step('late', { afterCommands: 1000 })];
    await runWorkload({ ...spec, concurrency: 1 }, 42, {
      commandUrl: () => url,
      steps,
      fire: async (s) => void fired.push({ name: s.name ?? '', sentBefore: svc!.seen.length }),
      progress: silentProgress,
    });
    expect(fired).to.deep.equal([
      { name: 'early', sentBefore: 5 },
      { name: 'late', sentBefore: 12 },
    ]);
  });

  it('stops sending once the signal is aborted', async () => {
    svc = await fakeService();
    const url = svc.url;
    const ctl = new AbortController();
    ctl.abort();
    const stats = await runWorkload(spec, 42, {
      commandUrl: () => url,
      steps: [],
      fire: async () => {},
      progress: silentProgress,
      signal: ctl.signal,
    });
    expect(stats.sent).to.equal(0);
    expect(svc.seen).to.deep.equal([]);
  });
});
