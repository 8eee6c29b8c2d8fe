import { expect } from 'chai';
import { rebinding } from '../support/rebinding';
import { startUiApp } from '../support/ui-app';

describe('lab UI server hardening (no stack needed: the guard answers before any route)', () => {
  let url: string;
  let stop: () => Promise<void>;

  before(async () => {
    ({ url, stop } = await startUiApp('lab-ui-guard-'));
  });
  after(() => stop());

  it('answers its own page and non-browser clients', async () => {
    expect((await fetch(`${url}/api/health`)).status).to.equal(200);
    expect(
      (
        await fetch(`${url}/api/health`, {
          headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' },
        })
      ).status,
    ).to.equal(200);
  });

  it("refuses another site's page reading its API (403) and bodies that are not JSON (415)", async () => {
    const crossSite = await fetch(`${url}/api/health`, {
      headers: {
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'cors',
        origin: 'https://evil.example',
      },
    });
    expect(crossSite.status).to.equal(403);
    expect(((await crossSite.json()) as { status: number }).status).to.equal(403);
    expect(
      (await fetch(`${url}/api/health`, { headers: { origin: 'http://127.0.0.1:1' } })).status,
    ).to.equal(403);
    expect(
      (
        await fetch(`${url}/api/experiments`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: 'x',
        })
      ).status,
    ).to.equal(415);
  });

  it('answers the DNS-rebinding request (foreign Host, matching Origin, JSON) with 421 before any route', async () => {
    // An id no experiment has: had the route been reached it would answer 400, and start nothing either way.
    const body = { id: 'E-999-no-such-experiment' };
    const refused = await rebinding(url, '/api/runs', body);
    expect(refused.status, refused.body).to.equal(421);
    expect((JSON.parse(refused.body) as { error: string }).error).to.contain(url);
    const own = await rebinding(url, '/api/runs', body, new URL(url).host);
    expect(own.status, 'the route itself, reached under its own Host').to.equal(400);
  });
});
