import { execFileSync } from 'node:child_process';
import * as net from 'node:net';

/** Resolves true when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Resolves true when a TCP connect to host:port succeeds. */
export function canConnect(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** "pid 1234 (redis-server)" for whoever listens on the port, when `ss` can tell. */
export function portHolder(port: number): string | undefined {
  try {
    const out = execFileSync('ss', ['-H', '-ltnp', `sport = :${port}`], { encoding: 'utf8', timeout: 3000 });
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(out);
    return m ? `pid ${m[2]} (${m[1]})` : out.trim() ? 'another process' : undefined;
  } catch {
    return undefined; // ss missing or failed: the port error then names no holder, the fix still stands
  }
}

/** A port the OS considers free right now (for extra service instances and tests). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
