import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny query-service on 127.0.0.1:0: `answer(path)` gives each GET's status and JSON body; every path is kept. */
export async function fakeQueryService(
  answer: (path: string) => { status: number; body: unknown; delayMs?: number },
) {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    const a = answer(req.url ?? '');
    setTimeout(() => {
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
    }, a.delayMs ?? 0);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
