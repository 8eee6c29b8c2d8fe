import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

export interface EngineCall {
  method: string;
  /** path without the /v1.xx prefix, with its query string */
  path: string;
}

/**
 * A stand-in Docker Engine on a unix socket: it records every API call and answers like the engine does for
 * known containers (204 for kill/pause/unpause/start, JSON for inspect) and 404 for others. It checks what our
 * driver sends at its boundary; it does not pretend to run containers.
 */
export async function fakeDockerEngine(containers: Record<string, { paused?: boolean }>) {
  const calls: EngineCall[] = [];
  const socketPath = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), 'fake-docker-')),
    'docker.sock',
  );
  const server = http.createServer((req, res) => {
    const p = (req.url ?? '').replace(/^\/v[\d.]+/, '');
    calls.push({ method: req.method ?? '', path: p });
    const m = /^\/containers\/([^/?]+)\/(\w+)/.exec(p);
    const ct = m && containers[m[1]];
    if (!m || !ct) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: `No such container: ${m?.[1] ?? p}` }));
      return;
    }
    if (m[2] === 'json') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ Name: `/${m[1]}`, State: { Running: true, Paused: !!ct.paused } }));
      return;
    }
    if (m[2] === 'unpause' && !ct.paused) {
      res
        .writeHead(409, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: `Container ${m[1]} is not paused` }));
      return;
    }
    if (m[2] === 'pause') ct.paused = true;
    if (m[2] === 'unpause') ct.paused = false;
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
