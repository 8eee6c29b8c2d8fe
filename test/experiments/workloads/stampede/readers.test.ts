import { expect } from 'chai';
import { burst, type Reader } from '../../../../src/experiments/workloads/stampede/readers';
import { fakeQueryService } from './fake-http';

describe("the stampede readers' burst (against a local HTTP server)", () => {
  let svc: Awaited<ReturnType<typeof fakeQueryService>> | undefined;
  afterEach(async () => svc?.close());

  it('sends every reader at once, each with its own answer source, status and latency', async () => {
    svc = await fakeQueryService((path) => ({
      status: 200,
      body: { source: path.endsWith('/1') ? 'db' : 'cache' },
      delayMs: 50,
    }));
    const url = svc.url;
    const readers: Reader[] = Array.from({ length: 20 }, (_, i) => ({
      keyIndex: i % 2,
      instance: 0,
      delayMs: 0,
    }));
    const t0 = performance.now();
    const rs = await burst(readers, (r) => `${url}/products/${r.keyIndex}`, 5000);
    // Concurrent, not queued on a keep-alive pool: 20 answers of 50 ms each take far less than 20 × 50 ms.
    expect(performance.now() - t0).to.be.below(900);
    expect(rs).to.have.length(20);
    expect(rs.map((r) => r.source)).to.deep.equal(
      readers.map((r) => (r.keyIndex === 1 ? 'db' : 'cache')),
    );
    for (const r of rs) {
      expect(r.status).to.equal(200);
      expect(r.ms).to.be.at.least(40);
    }
  });

  it('starts each reader after its own delay', async () => {
    svc = await fakeQueryService(() => ({ status: 200, body: { source: 'cache' } }));
    const url = svc.url;
    const rs = await burst(
      [
        { keyIndex: 0, instance: 0, delayMs: 0 },
        { keyIndex: 0, instance: 0, delayMs: 80 },
      ],
      () => `${url}/products/1`,
      5000,
    );
    expect(rs[1].startMs - rs[0].startMs).to.be.at.least(70);
  });

  it('turns an error status, a body that is not JSON, a refused connection and a timeout into `error` results', async () => {
    svc = await fakeQueryService((path) =>
      path === '/500'
        ? { status: 500, body: { source: 'db' } }
        : path === '/text'
          ? { status: 200, body: 'not json' }
          : { status: 200, body: { source: 'db' }, delayMs: 1000 },
    );
    const url = svc.url;
    const paths = [`${url}/500`, `${url}/text`, 'http://127.0.0.1:1/refused', `${url}/slow`];
    const rs = await burst(
      paths.map((_, i) => ({ keyIndex: i, instance: 0, delayMs: 0 })),
      (r) => paths[r.keyIndex],
      200,
    );
    expect(rs.map((r) => [r.status, r.source])).to.deep.equal([
      [500, 'error'],
      [200, 'error'],
      [0, 'error'],
      [0, 'error'],
    ]);
  });
});
