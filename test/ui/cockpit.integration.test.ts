import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { LabConfig } from '../../src/lib/config';
import { healToxics, supervisorFor } from '../../src/runtime/stack';
import { ensureUiProcess, UI_PROCESS } from '../../src/ui/process';
import { locateChromium } from '../support/chromium';
import { ensureLab } from '../support/lab';

const OUT = path.resolve(__dirname, '../../../test-output/ui');
const TOXIC_PROXY = 'mysql';

/**
 * The cockpit in Debian's Chromium against the real stack: E-002 both ways started from the page and watched to its
 * verdict, a latency toxic injected, seen and healed, every dashboard panel drawn from Prometheus. Screenshots of
 * each state go to test-output/ui/ (paths printed).
 */
describe('lab UI cockpit (run, watch, inject, heal, live panels in Debian Chromium)', function () {
  this.timeout(420_000);
  let c: LabConfig;
  let browser: Browser | undefined;
  let page: Page;
  let url: string;
  const shot = async (p: Page, name: string) => {
    const file = path.join(OUT, `${name}.png`);
    await p.screenshot({ path: file, fullPage: true });
    console.log(`      screenshot: ${file}`);
  };

  /** Fills the run form and presses Start; returns when the log shows this run (its `start` event arrived). */
  const startFromPage = async (id: string, side: string, seed: number) => {
    await page.selectOption('[data-testid="run-id"]', id);
    await page.selectOption('[data-testid="run-side"]', side);
    await page.fill('[data-testid="run-seed"]', String(seed));
    const clicked = new Date().toISOString();
    await page.click('[data-testid="run-start"]');
    await page.waitForFunction(
      `(document.querySelector('#run-log').dataset.startedAt ?? '') > ${JSON.stringify(clicked)}`,
      undefined,
      { timeout: 90_000 },
    );
  };

  before(async function () {
    const chrome = locateChromium();
    if (!chrome.path) {
      console.log(`      SKIPPED: ${chrome.why}`);
      this.skip();
    }
    c = await ensureLab();
    fs.mkdirSync(path.join(OUT, 'reports'), { recursive: true });
    await supervisorFor(c).stop(UI_PROCESS); // ours: this test's reports dir
    url = (await ensureUiProcess(c, { LAB_UI_REPORTS: path.join(OUT, 'reports') })).url;
    browser = await chromium.launch({
      executablePath: chrome.path,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.setDefaultTimeout(30_000);
    await page.goto(`${url}/?dashboard=lab-cache-db`);
  });

  after(async () => {
    if (!c) return;
    await browser?.close().catch(() => {});
    await supervisorFor(c).stop(UI_PROCESS);
    await healToxics(c);
  });

  it('listens on 127.0.0.1 at the labUi port, which LAB_PORT_OFFSET moves', () => {
    const offset = Number(process.env.LAB_PORT_OFFSET ?? 0);
    expect(url).to.equal(`http://127.0.0.1:${18099 + offset}`);
  });

  it('injects a latency toxic from the form, lists it, shows it on a live panel, and heals it', async () => {
    await page
      .locator('[data-testid="panel"][data-state="data"]')
      .first()
      .waitFor({ timeout: 60_000 });
    const before = Number(
      (await page
        .locator('[data-testid="panel"][data-state="data"]')
        .first()
        .getAttribute('data-markers')) ?? 0,
    );
    await page.selectOption('[data-testid="inject-fault"]', 'latency');
    await page.fill('[data-testid="inject-target"]', TOXIC_PROXY);
    await page.fill('[data-testid="field-latency-ms"]', 'abc');
    await page.click('[data-testid="inject-submit"]');
    await page
      .locator('#inject-result.error', { hasText: '--latency-ms abc: expected a number' })
      .waitFor();
    await page.fill('[data-testid="field-latency-ms"]', '120');
    await page.click('[data-testid="inject-submit"]');
    await page.locator('#inject-result.pass').waitFor();
    const row = page.locator('[data-testid="toxics"] tr', { hasText: 'latency' });
    await row.first().waitFor();
    expect(await row.first().innerText())
      .to.include(TOXIC_PROXY)
      .and.include('120');
    // The Toxiproxy panel of the cache/DB dashboard draws the toxic's latency; the marker is on its time axis.
    // The dashboards' panels carry the fault as a marker on their time axis, at the moment it was injected.
    // (A string: evaluated in the page, whose DOM types this Node test does not compile against.)
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-testid="panel"][data-state="data"]')].some((p) => Number(p.dataset.markers) > ${before})`,
      undefined,
      { timeout: 60_000 },
    );
    await shot(page, '1-toxic-injected');
    await page.click('[data-testid="heal-all"]');
    await page.locator('#inject-result.pass', { hasText: 'healed' }).waitFor();
    await page
      .locator('[data-testid="toxics"] tbody', { hasText: 'no toxics' })
      .waitFor({ timeout: 15_000 });
    await shot(page, '2-healed');
  });

  it('starts E-002 both ways from the page, streams its progress, shows each verdict with the lost count, and links the report', async () => {
    await page.selectOption('[data-testid="run-id"]', 'E-002');
    await page.selectOption('[data-testid="run-side"]', 'both');
    await page.fill('[data-testid="run-seed"]', '42');
    const clicked = new Date().toISOString();
    await page.click('[data-testid="run-start"]');
    await page.locator('#run-state[data-running="true"]').waitFor({ timeout: 60_000 });
    // A second start while it runs is refused with the lock's message.
    const refused = await page.evaluate(async () => {
      const r = await fetch('/api/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'E-002' }),
      });
      return { status: r.status, body: (await r.json()) as { error: string } };
    });
    expect(refused.status).to.equal(409);
    // Refused by the lock once the child holds it, by the UI while the child is still starting.
    expect(refused.body.error).to.match(
      /another `chaos exp` \(pid \d+\)|a run started from the UI \(pid \d+\)/,
    );
    // The log shows this run once its `start` event arrives (until then: the last run's, replayed on connect).
    await page.waitForFunction(
      `(document.querySelector('#run-log').dataset.startedAt ?? '') > ${JSON.stringify(clicked)}`,
      undefined,
      { timeout: 90_000 },
    );
    await page.locator('[data-testid="run-log"] li.fault').first().waitFor({ timeout: 120_000 });
    await shot(page, '3-run-live');
    await page.locator('[data-testid="pair"]').waitFor({ timeout: 300_000 });
    const verdicts = page.locator('[data-testid="verdict"]');
    expect(await verdicts.count()).to.equal(2);
    const anti = page.locator('[data-testid="verdict"][data-side="anti-pattern"]');
    expect(await anti.locator('[data-testid="lost"]').innerText()).to.match(/^lost [1-9]\d*$/);
    expect(
      await page
        .locator('[data-testid="verdict"][data-side="pattern"] [data-testid="lost"]')
        .innerText(),
    ).to.equal('lost 0');
    // The probes' ✅/❌ marks are drawn as SVG: no character that needs an emoji font is left in the cards.
    expect(await page.locator('[data-testid="verdict"] svg.badge-icon').count()).to.be.at.least(2);
    expect(await page.locator('#run-verdicts').innerText()).to.not.match(/[\u2705\u274C]/u);
    await page.locator('#run-state[data-running="false"]').waitFor({ timeout: 30_000 });
    await shot(page, '4-run-verdict');
    const href = await anti.locator('[data-testid="report-link"]').getAttribute('href');
    expect(href).to.match(/^\/reports\/.+\/anti-pattern\/report\.html$/);
    const report = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    await report.goto(`${url}${href}`);
    expect(await report.locator('.verdict svg.badge-icon').count()).to.be.at.least(2);
    await shot(report, '5-report-badges');
    await report.close();
  });

  it('stops a run from the page like Ctrl-C: interrupted, its rollbacks run, nothing left armed', async () => {
    await startFromPage('E-002', 'anti-pattern', 43);
    await page.locator('[data-testid="run-log"] li.fault').first().waitFor({ timeout: 120_000 });
    await page.click('[data-testid="run-stop"]');
    await page
      .locator('[data-testid="run-log"] li', { hasText: 'finished, exit 130' })
      .waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-testid="verdict"]').innerText()).to.include('interrupted');
    expect(
      await page.locator('[data-testid="run-log"] li', { hasText: 'rollback' }).count(),
    ).to.be.at.least(1);
    await page.locator('#run-state[data-running="false"]').waitFor({ timeout: 30_000 });
    const live = (await (await fetch(`${url}/api/live`)).json()) as {
      chaos: { failpoints: unknown[]; proxies: { toxics: unknown[] }[] };
    };
    expect(live.chaos.failpoints).to.deep.equal([]);
    expect(live.chaos.proxies.flatMap((p) => p.toxics)).to.deep.equal([]);
    await shot(page, '7-run-stopped');
  });

  it('runs one side of another experiment from the page: E-010 with versioned fills, as expected (it feeds the cache panels)', async () => {
    await startFromPage('E-010', 'pattern', 42);
    const verdict = page.locator('[data-testid="verdict"][data-side="pattern"]');
    await verdict.waitFor({ timeout: 240_000 });
    expect(await verdict.innerText()).to.include('as expected');
    await page.locator('#run-state[data-running="false"]').waitFor({ timeout: 30_000 });
  });

  it('draws every panel of every dashboard from Prometheus with data after the run, none failing or empty', async () => {
    const options = page.locator('#dashboard option');
    const uids: string[] = [];
    for (let i = 0; i < (await options.count()); i++)
      uids.push((await options.nth(i).getAttribute('value')) ?? '');
    const empty: string[] = [];
    for (const uid of uids) {
      await page.selectOption('#dashboard', uid);
      const loading = page.locator('[data-testid="panel"][data-state="loading"]');
      for (const deadline = Date.now() + 60_000; (await loading.count()) && Date.now() < deadline;)
        await page.waitForTimeout(500);
      const panels = page.locator('[data-testid="panel"]');
      const states: { title: string; state: string | null; note: string }[] = [];
      for (let i = 0; i < (await panels.count()); i++) {
        const p = panels.nth(i);
        states.push({
          title: await p.locator('.panel-title').innerText(),
          state: await p.getAttribute('data-state'),
          note: await p.locator('.panel-note').innerText(),
        });
      }
      const failed = states.filter((s) => s.state === 'error');
      expect(failed, `${uid}: ${JSON.stringify(failed)}`).to.deep.equal([]);
      empty.push(...states.filter((s) => s.state !== 'data').map((s) => `${uid}: ${s.title}`));
      expect(states.filter((s) => s.state === 'data').length, uid).to.be.at.least(1);
      await shot(page, `6-dashboard-${uid}`);
    }
    // The runs above feed every panel within its time range: E-002 the pipeline and Kafka, E-010 the cache.
    expect(empty, 'panels without data').to.deep.equal([]);
  });
});
