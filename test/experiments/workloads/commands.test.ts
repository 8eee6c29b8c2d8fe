import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ReadBackError,
  readThroughQueryService,
} from '../../../src/experiments/workloads/commands';

/** A stand-in for query-service's GET /products/:id: answers each id as `answers` says. */
async function queryService(answers: Record<number, [number, unknown]>): Promise<Server> {
  const server = createServer((req, res) => {
    const id = Number(/\/products\/(\d+)/.exec(req.url ?? '')?.[1]);
    const [status, body] = answers[id] ?? [404, { error: 'not found' }];
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

describe('the final read-back through query-service', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('reads every product, a 404 as "served no product" (version 0)', async () => {
    server = await queryService({
      1: [200, { version: 3 }],
      3: [200, { product: { version: 7 } }],
    });
    expect(await readThroughQueryService(urlOf(server), 3)).to.deep.equal([
      { productId: 1, version: 3 },
      { productId: 2, version: 0 },
      { productId: 3, version: 7 },
    ]);
  });

  it('aborts with the product and the status when query-service answers an error, never skipping the read', async () => {
    server = await queryService({ 1: [200, { version: 1 }], 2: [503, { error: 'redis down' }] });
    const err = await readThroughQueryService(urlOf(server), 2).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ReadBackError);
    expect((err as Error).message).to.match(
      /product 2 .*HTTP 503.*redis down.*cannot judge staleReads/,
    );
  });

  it('aborts when query-service does not answer at all', async () => {
    server = await queryService({});
    const url = urlOf(server);
    server.close();
    server = undefined;
    const err = await readThroughQueryService(url, 1).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ReadBackError);
    expect((err as Error).message).to.contain('product 1');
  });

  it('aborts on an answer without a version', async () => {
    server = await queryService({ 1: [200, { product: {} }] });
    const err = await readThroughQueryService(urlOf(server), 1).catch((e: unknown) => e);
    expect((err as Error).message).to.contain('has no version');
  });
});
