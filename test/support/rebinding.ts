import * as http from 'node:http';

/**
 * The DNS-rebinding request of issue #26: a page on evil.example whose name now resolves to 127.0.0.1 sends a
 * JSON POST to a lab port. Its Origin matches its Host, so only the Host names the attack. fetch() cannot set
 * Host; node:http can.
 */
export function rebinding(
  url: string,
  p: string,
  body: unknown,
  host = `evil.example:${new URL(url).port}`,
): Promise<{ status: number; body: string }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const u = new URL(p, url);
    const req = http.request(
      u,
      {
        method: 'POST',
        headers: {
          host,
          origin: `http://${host}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(data),
        },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${u.href}: no answer in 10 s`)));
    req.end(data);
  });
}
