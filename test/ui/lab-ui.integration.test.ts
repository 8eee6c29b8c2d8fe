import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Producer, Transaction } from 'kafkajs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { addToxic } from '../../src/chaos/toxics';
import type { LabConfig } from '../../src/lib/config';
import { labKafka } from '../../src/lib/kafka';
import { topicOffsets } from '../../src/lib/offsets';
import { writeReport } from '../../src/experiments/report';
import type { RunResult } from '../../src/experiments/engine';
import { startService, stopService } from '../../src/runtime/services';
import { healToxics, supervisorFor } from '../../src/runtime/stack';
import { ensureUiProcess, UI_PROCESS } from '../../src/ui/process';
import { locateChromium } from '../support/chromium';
import { ensureLab } from '../support/lab';

const TOPIC = `lab.ui.t${process.pid}`;
const GROUP = `ui-test-group-${process.pid}`;
const FAILPOINT = 'command.after-commit-before-produce';

/** A journal as `chaos exp run` writes it, for the UI to list and link (the UI's input, not a verdict of ours). */
function journalFixture(runId: string): RunResult {
  const now = Date.now();
  return {
    id: 'E-002',
    title: 'fixture',
    runId,
    seed: 11,
    expected: 'reproduced',
    outcome: 'completed',
    startedAt: new Date(now).toISOString(),
    durationSec: 42,
    topic: 'lab.exp.fixture',
    consumerGroup: 'exp-fixture',
    workloadKind: 'commands',
    rollbacks: [],
    workload: { sent: 200, ok: 200, failed: 0, retried: 0, latenciesMs: [], failures: [] },
    facts: {
      crashes: 3,
      failpointsFired: 3,
      restarts: 3,
      commandsSent: 200,
      commandsFailed: 0,
      brokerKills: 0,
      clusterNodeKills: 0,
      slotsMoved: 0,
      toxicsAdded: 0,
      replays: 0,
      schemaRejected: 0,
    },
    probes: [],
    alerts: [],
    audit: {
      figures: { lostBeforeTopic: 3, notApplied: 0, duplicateEffects: 0, staleReads: 0 },
      ids: {
        lostBeforeTopic: [],
        notApplied: [],
        duplicateEffects: [],
        topicDuplicates: [],
        staleReads: [],
      },
    } as never,
    timeline: [{ tMs: 0, what: 'fixture written by test/ui/lab-ui.integration.test.ts' }],
    window: { startSec: now / 1000, endSec: now / 1000 },
  };
}

describe('lab UI (served by `chaos up --ui`, driven in Debian Chromium)', function () {
  this.timeout(180_000);
  let c: LabConfig;
  let browser: Browser | undefined;
  let page: Page;
  let producer: Producer;
  let tx: Transaction | undefined;
  let reportsDir: string;
  const shot = path.resolve(__dirname, '../../../.lab/ui/screenshot.png');

  before(async function () {
    const chrome = locateChromium();
    if (!chrome.path) {
      console.log(`      SKIPPED: ${chrome.why}`);
      this.skip();
    }
    c = await ensureLab();
    // Real state for every panel: a topic with an open transaction (LSO < HW) and a group behind, a toxic, a
    // service in a non-default mode with an armed failpoint, and a run report.
    const kafka = labKafka(c, 'lab-ui-test');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }],
    });
    producer = kafka.producer({
      transactionalId: `lab-ui-test-${process.pid}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 600_000,
    });
    await producer.connect();
    await producer.send({
      topic: TOPIC,
      messages: Array.from({ length: 30 }, (_, i) => ({
        key: `k${i}`,
        value: `v${i}`,
        partition: i % 3,
      })),
    });
    await admin.setOffsets({
      groupId: GROUP,
      topic: TOPIC,
      partitions: [0, 1, 2].map((partition) => ({ partition, offset: '4' })),
    });
    await admin.disconnect();

    await addToxic(c, {
      proxy: 'redis',
      name: 'ui_test_latency',
      type: 'latency',
      attributes: { latency: 150, jitter: 0 },
    });
    const svc = await startService(c, 'command-service', {
      modes: { COMMAND_MODE: 'direct' },
      instance: 'uitest',
      port: c.ports.labUi + 7,
    });
    await fetch(`${svc.url}/failpoints/${FAILPOINT}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'crash', after: 1000 }),
    });

    reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-ui-reports-'));
    writeReport(path.join(reportsDir, 'e-002-s11-fixture'), journalFixture('e-002-s11-fixture'));

    // Opened last, with a long timeout: on a loaded machine the broker must not abort it before we look.
    tx = await producer.transaction();
    await tx.send({
      topic: TOPIC,
      messages: [0, 1, 2].map((partition) => ({ key: 'open', value: 'uncommitted', partition })),
    });
    await supervisorFor(c).stop(UI_PROCESS); // this test's reports dir and topic filter
    await ensureUiProcess(c, { LAB_UI_REPORTS: reportsDir, LAB_UI_TOPICS: '^lab\\.ui\\.' });
    browser = await chromium.launch({
      executablePath: chrome.path,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://${c.host}:${c.ports.labUi}/`);
  });

  after(async () => {
    if (!c) return;
    await browser?.close().catch(() => {});
    await tx?.abort().catch(() => {});
    await producer?.disconnect().catch(() => {});
    await supervisorFor(c).stop(UI_PROCESS);
    await stopService(c, 'command-service-uitest').catch(() => {});
    await healToxics(c);
    const admin = labKafka(c, 'lab-ui-test').admin();
    await admin
      .connect()
      .then(() => admin.deleteTopics({ topics: [TOPIC] }))
      .catch(() => {});
    await admin.deleteGroups([GROUP]).catch(() => {});
    await admin.disconnect().catch(() => {});
  });

  it('runs as a supervised process with a pidfile, so `chaos down` stops it', () => {
    expect(supervorAlive(c)).to.equal(true);
  });

  it("shows each partition's LSO below its HW while a transaction is open, the replicas' LEO, and the group's lag", async () => {
    const real = await topicOffsets(labKafka(c, 'lab-ui-test'), TOPIC);
    expect(real.every((p) => p.lso < p.hw)).to.equal(true);
    const card = page.locator(`[data-topic="${TOPIC}"]`);
    await card.locator('td.gap').first().waitFor({ timeout: 30_000 });
    for (const p of real) {
      const cells = await card
        .locator('tr')
        .nth(p.partition + 1)
        .locator('td')
        .allTextContents();
      expect(cells.slice(0, 6)).to.deep.equal([
        String(p.partition),
        String(p.leader),
        p.isr.join(','),
        String(p.logStart),
        String(p.lso),
        String(p.hw),
      ]);
    }
    expect(await card.locator('th', { hasText: 'LEO b1' }).count()).to.equal(1);
    const lag = real.reduce((a, p) => a + Number(p.lso) - 4, 0);
    await card.getByText(`${GROUP} lag ${lag}`).waitFor({ timeout: 10_000 });
  });

  it("shows the toxic, the armed failpoint and the service's mode", async () => {
    await page
      .locator('[data-testid="toxics"] tr', { hasText: 'ui_test_latency' })
      .waitFor({ timeout: 15_000 });
    expect(
      await page.locator('[data-testid="toxics"] tr', { hasText: 'ui_test_latency' }).innerText(),
    ).to.match(/redis\s+ui_test_latency\s+latency\s+downstream\s+\{"latency":150,"jitter":0\}/);
    expect(
      await page.locator('[data-testid="failpoints"] tr', { hasText: FAILPOINT }).innerText(),
    ).to.match(/command-service-uitest\s+command.after-commit-before-produce\s+crash\s+1000\s+0/);
    expect(await page.locator('[data-service="command-service-uitest"]').innerText()).to.match(
      /healthy.*mode=direct/s,
    );
  });

  it('lists the experiments with their last verdict and links the report', async () => {
    const row = page.locator('[data-testid="experiments"] tr[data-id="E-002"]');
    await row.getByText('reproduced as expected').waitFor({ timeout: 15_000 });
    expect(await row.innerText()).to.contain('lostBeforeTopic 3');
    expect(await page.locator('[data-testid="experiments"] tbody tr').count()).to.be.at.least(5);
    // The screenshot shows the lab mid-fault: open transaction, toxic, failpoint.
    fs.mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`      screenshot: ${shot}`);
    const href = await row.locator('a').getAttribute('href');
    expect(href).to.equal('/reports/e-002-s11-fixture/report.md');
    const report = await (await fetch(`http://${c.host}:${c.ports.labUi}${href}`)).text();
    expect(report).to.contain('E-002');
  });

  it('updates live: committing the transaction closes the LSO/HW gap', async () => {
    await tx!.commit();
    tx = undefined;
    const card = page.locator(`[data-topic="${TOPIC}"]`);
    await page.waitForFunction(
      `!document.querySelector('[data-topic="${TOPIC}"] td.gap')`,
      undefined,
      { timeout: 15_000 },
    );
    const real = await topicOffsets(labKafka(c, 'lab-ui-test'), TOPIC);
    expect(await card.locator('tr').nth(1).locator('td').nth(4).innerText()).to.equal(
      String(real[0].lso),
    );
  });
});

function supervorAlive(c: LabConfig): boolean {
  return supervisorFor(c).isAlive(UI_PROCESS);
}
