import { expect } from 'chai';
import express from 'express';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  contentTypeRefusal,
  crossSiteRefusal,
  guardRefusal,
  hostRefusal,
  httpGuard,
  isJsonType,
  refuseRequest,
} from '../../src/lib/http-guard';

const req = (method: string, headers: Record<string, string>) => ({
  method,
  headers: { host: '127.0.0.1:18091', ...headers },
});

describe("http guard (Host, cross-site and JSON-only checks for the lab's endpoints)", () => {
  it('lets non-browser clients, same-origin pages and typed-in URLs through', () => {
    expect(crossSiteRefusal(req('POST', {}))).to.equal(undefined);
    expect(
      crossSiteRefusal(
        req('POST', { 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:18091' }),
      ),
    ).to.equal(undefined);
    expect(
      crossSiteRefusal(req('GET', { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' })),
    ).to.equal(undefined);
  });

  it('refuses fetches and form posts from another site or another origin, localhost ports included', () => {
    for (const site of ['cross-site', 'same-site']) {
      expect(
        crossSiteRefusal(req('POST', { 'sec-fetch-site': site, 'sec-fetch-mode': 'navigate' }))
          ?.status,
        site,
      ).to.equal(403);
      expect(
        crossSiteRefusal(req('GET', { 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors' }))
          ?.status,
        site,
      ).to.equal(403);
    }
    // Browsers without Fetch Metadata still send Origin; a page on another port of 127.0.0.1 is another origin.
    expect(crossSiteRefusal(req('PUT', { origin: 'http://127.0.0.1:3000' }))?.status).to.equal(403);
    expect(crossSiteRefusal(req('POST', { origin: 'null' }))?.status).to.equal(403);
    expect(crossSiteRefusal(req('POST', { origin: 'https://evil.example' }))?.reason).to.match(
      /Origin: https:\/\/evil\.example/,
    );
  });

  it('lets a top-level GET navigation from another site through (following a link reads and changes nothing)', () => {
    expect(
      crossSiteRefusal(
        req('GET', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }),
      ),
    ).to.equal(undefined);
  });

  it("accepts JSON media types (Confluent's vnd.schemaregistry.v1+json included) and refuses other bodies with 415", () => {
    for (const t of [
      'application/json',
      'application/json; charset=utf-8',
      'application/vnd.schemaregistry.v1+json',
      'application/vnd.schemaregistry+json',
      'APPLICATION/JSON',
    ])
      expect(isJsonType(t), t).to.equal(true);
    for (const t of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '',
      undefined,
    ]) {
      expect(isJsonType(t), String(t)).to.equal(false);
      expect(
        contentTypeRefusal(
          req('POST', { ...(t ? { 'content-type': t } : {}), 'content-length': '2' }),
        )?.status,
        String(t),
      ).to.equal(415);
    }
    expect(
      contentTypeRefusal(
        req('POST', { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' }),
      )?.status,
    ).to.equal(415);
  });

  it('does not ask a body-less GET, DELETE or PUT for a content type (a browser preflights the latter two)', () => {
    expect(contentTypeRefusal(req('GET', {}))).to.equal(undefined);
    expect(contentTypeRefusal(req('DELETE', { 'content-type': 'text/plain' }))).to.equal(undefined);
    expect(contentTypeRefusal(req('PUT', {}))).to.equal(undefined);
  });

  it('refuses a POST without a JSON content type even when empty, and accepts an empty JSON one', () => {
    const empty = contentTypeRefusal(req('POST', { 'content-length': '0' }));
    expect(empty?.status).to.equal(415);
    expect(empty?.reason).to.match(/sends \{\}/);
    expect(
      contentTypeRefusal(
        req('POST', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' }),
      )?.status,
    ).to.equal(415);
    expect(
      contentTypeRefusal(
        req('POST', { 'content-type': 'application/json', 'content-length': '0' }),
      ),
    ).to.equal(undefined);
  });

  it('accepts Host 127.0.0.1, localhost and [::1] with the listening port, in any case', () => {
    for (const host of ['127.0.0.1:18091', 'localhost:18091', '[::1]:18091', 'LocalHost:18091'])
      expect(hostRefusal(req('POST', { host }), 18091), host).to.equal(undefined);
  });

  it('refuses with 421 a foreign Host, a Host with another port or none, naming the address to use', () => {
    for (const host of [
      'evil.example:18091',
      '127.0.0.1:18080',
      '127.0.0.1',
      'localhost.evil:18091',
    ]) {
      const r = hostRefusal(req('GET', { host }), 18091);
      expect(r?.status, host).to.equal(421);
      expect(r?.reason, host).to.contain('http://127.0.0.1:18091');
    }
    expect(hostRefusal({ method: 'GET', headers: {} }, 18091)?.status).to.equal(421);
  });

  it('answers the rebinding request (foreign Host, matching Origin, JSON POST) with 421 before any other check', () => {
    const rebinding = req('POST', {
      host: 'evil.example:18091',
      origin: 'http://evil.example:18091',
      'content-type': 'application/json',
      'content-length': '2',
    });
    expect(crossSiteRefusal(rebinding), 'Origin matches Host: only Host gives it away').to.equal(
      undefined,
    );
    expect(guardRefusal(rebinding, 18091)?.status).to.equal(421);
  });

  it('checks a state change for cross-site (403) before its content type (415), and leaves safe methods alone', () => {
    expect(
      guardRefusal(req('POST', { origin: 'http://127.0.0.1:1', 'content-length': '1' }), 18091)
        ?.status,
    ).to.equal(403);
    expect(guardRefusal(req('POST', {}), 18091)?.status).to.equal(415);
    expect(guardRefusal(req('OPTIONS', {}), 18091)).to.equal(undefined);
    expect(
      guardRefusal(
        req('POST', { 'content-type': 'application/json', origin: 'http://127.0.0.1:18091' }),
        18091,
      ),
    ).to.equal(undefined);
  });

  it('refuses an https Origin for the same host and port (the lab serves plain http only)', () => {
    expect(crossSiteRefusal(req('POST', { origin: 'https://127.0.0.1:18091' }))?.status).to.equal(
      403,
    );
  });
});

/** One request with the Host and headers given: fetch cannot set Host, node:http can. */
function send(
  port: number,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method, path: '/x', headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

describe('http guard on a listening server (express and plain node:http, its own port read from the socket)', () => {
  const servers: http.Server[] = [];
  const handled: string[] = [];
  let expressPort: number;
  let plainPort: number;
  const listen = async (s: http.Server) => {
    servers.push(s.listen(0, '127.0.0.1'));
    await new Promise((r) => s.once('listening', r));
    return (s.address() as AddressInfo).port;
  };

  before(async () => {
    const app = express();
    app.use(httpGuard((res, r) => void res.status(r.status).json({ refused: r.reason })));
    app.all('/x', (req, res) => void (handled.push(`express ${req.method}`), res.json({ ok: 1 })));
    expressPort = await listen(http.createServer(app));
    plainPort = await listen(
      http.createServer((req, res) => {
        if (refuseRequest(req, res)) return;
        handled.push(`plain ${req.method}`);
        res.end('ok');
      }),
    );
  });
  after(() => servers.forEach((s) => s.close()));
  beforeEach(() => (handled.length = 0));

  for (const kind of ['express', 'plain'] as const) {
    const port = () => (kind === 'express' ? expressPort : plainPort);
    it(`${kind}: answers 421 to a foreign Host and to its loopback address with another port, without handling either`, async () => {
      for (const host of [`evil.example:${port()}`, `127.0.0.1:${port() + 1}`]) {
        const r = await send(
          port(),
          'POST',
          {
            host,
            origin: `http://${host}`,
            'content-type': 'application/json',
          },
          '{}',
        );
        expect(r.status, host).to.equal(421);
        expect(r.body, host).to.contain(`http://127.0.0.1:${port()}`);
      }
      expect(handled).to.deep.equal([]);
    });

    it(`${kind}: answers 403 to another origin and 415 to a form post, and serves its own name's requests`, async () => {
      const own = `127.0.0.1:${port()}`;
      const json = { host: own, 'content-type': 'application/json' };
      expect(
        (await send(port(), 'POST', { ...json, origin: 'http://evil.example' }, '{}')).status,
      ).to.equal(403);
      expect(
        (
          await send(
            port(),
            'POST',
            { host: own, 'content-type': 'application/x-www-form-urlencoded' },
            'a=1',
          )
        ).status,
      ).to.equal(415);
      expect(handled).to.deep.equal([]);
      expect(
        (await send(port(), 'POST', { ...json, origin: `http://${own}` }, '{}')).status,
      ).to.equal(200);
      expect((await send(port(), 'GET', { host: `localhost:${port()}` })).status).to.equal(200);
      expect(handled).to.deep.equal([`${kind} POST`, `${kind} GET`]);
    });
  }
});
