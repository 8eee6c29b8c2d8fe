import * as http from 'node:http';
import { prng } from '../api';

/** One reader of the storm: which hot key (by index), through which query-service instance, how late it starts. */
export interface Reader {
  keyIndex: number;
  instance: number;
  delayMs: number;
}

export interface ReaderResult extends Reader {
  /** since the burst started: when it was sent and how long it took, client side */
  startMs: number;
  ms: number;
  status: number;
  /** where query-service says the answer came from: cache | db | stale, or `error` */
  source: string;
}

/**
 * The readers of one expiry round. Seed and round alone decide them, so every mode faces the identical storm.
 * Keys are skewed like real hot sets (key i weighs 1/(i+1)), instances alternate at random, and each reader
 * starts within `arrivalJitterMs` — all of them inside one DB load, which is what makes their misses concurrent.
 */
export function planReaders(
  seed: number,
  round: number,
  o: { readers: number; hotKeys: number; instances: number; arrivalJitterMs: number },
): Reader[] {
  const rand = prng(seed * 1000 + round);
  const weights = Array.from({ length: o.hotKeys }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const pick = () => {
    let r = rand() * total;
    for (let i = 0; i < weights.length; i++) if ((r -= weights[i]) < 0) return i;
    return weights.length - 1;
  };
  return Array.from({ length: o.readers }, () => ({
    keyIndex: pick(),
    instance: Math.floor(rand() * o.instances),
    delayMs: Math.floor(rand() * o.arrivalJitterMs),
  }));
}

/**
 * Fires every reader at once, each on its own connection (a shared keep-alive pool would queue them and hide
 * the stampede), and waits for all of them. A failed request is a result (`error`), not an exception.
 */
export async function burst(
  readers: Reader[],
  url: (r: Reader) => string,
  timeoutMs: number,
): Promise<ReaderResult[]> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const t0 = performance.now();
  try {
    return await Promise.all(
      readers.map(async (r) => {
        if (r.delayMs) await new Promise((res) => setTimeout(res, r.delayMs));
        const start = performance.now();
        const { status, source } = await get(url(r), agent, timeoutMs);
        return { ...r, startMs: start - t0, ms: performance.now() - start, status, source };
      }),
    );
  } finally {
    agent.destroy();
  }
}

function get(
  url: string,
  agent: http.Agent,
  timeoutMs: number,
): Promise<{ status: number; source: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        let source = 'error';
        try {
          source =
            res.statusCode === 200
              ? String((JSON.parse(body) as { source?: string }).source)
              : 'error';
        } catch {
          // not JSON: counted as an error below
        }
        resolve({ status: res.statusCode ?? 0, source });
      });
      res.on('error', () => resolve({ status: 0, source: 'error' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, source: 'error' }));
  });
}
