import { expect } from 'chai';
import { contentTypeRefusal, crossSiteRefusal, isJsonType } from '../../src/lib/http-guard';

const req = (method: string, headers: Record<string, string>) => ({
  method,
  headers: { host: '127.0.0.1:18091', ...headers },
});

describe("http guard (cross-site refusal and JSON-only bodies for the lab's endpoints)", () => {
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

  it('does not ask a request without a body for a content type (GET, DELETE, an empty POST)', () => {
    expect(contentTypeRefusal(req('GET', {}))).to.equal(undefined);
    expect(contentTypeRefusal(req('DELETE', { 'content-type': 'text/plain' }))).to.equal(undefined);
    expect(contentTypeRefusal(req('POST', { 'content-length': '0' }))).to.equal(undefined);
  });
});
