import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeToxic } from '../../src/chaos/toxics';
import type { LabConfig } from '../../src/lib/config';
import { schemaRegistryUrl } from '../../src/runtime/components/schema-registry';
import { toxiproxyUrl } from '../../src/runtime/components/toxiproxy';
import { supervisorFor } from '../../src/runtime/stack';
import { ensureUiProcess, UI_PROCESS } from '../../src/ui/process';
import { ensureLab } from '../support/lab';
import { rebinding } from '../support/rebinding';
import { startTestService, stopTestService } from '../support/services';

const FAILPOINT = 'command.after-commit-before-produce';
const SUBJECT = `lab-guard-t${process.pid}-value`;
const SCHEMA = JSON.stringify({
  type: 'record',
  name: 'GuardProbe',
  fields: [{ name: 'id', type: 'long' }],
});

/** The toxics on the redis proxy, by name (what an injection through the UI would add to). */
const redisToxics = async (c: LabConfig) =>
  ((await (await fetch(`${toxiproxyUrl(c)}/proxies/redis/toxics`)).json()) as { name: string }[])
    .map((t) => t.name)
    .sort();

const armed = async (url: string) =>
  ((await (await fetch(`${url}/failpoints`)).json()) as { armed: { name: string }[] }).armed.map(
    (a) => a.name,
  );

describe('http guard on the running lab (the DNS-rebinding request is refused by the UI, the registry and a service)', function () {
  this.timeout(120_000);
  let c: LabConfig;
  let uiStarted = false;
  let reportsDir: string;
  let toxicsBefore: string[] | undefined;

  before(async () => {
    c = await ensureLab();
  });
  after(async () => {
    await stopTestService(c, 'command-service');
    // Only if the guard let the registration through: the shared registry keeps no test subject.
    const url = schemaRegistryUrl(c);
    const subjects = (await (await fetch(`${url}/subjects`)).json()) as string[];
    if (subjects.includes(SUBJECT)) await fetch(`${url}/subjects/${SUBJECT}`, { method: 'DELETE' });
    await fetch(`${url}/subjects/${SUBJECT}?permanent=true`, { method: 'DELETE' });
    // Only if the guard let the injection through: no toxic of this test stays on the shared proxy.
    for (const t of toxicsBefore ? await redisToxics(c) : [])
      if (!toxicsBefore?.includes(t)) await removeToxic(c, 'redis', t);
    if (uiStarted) await supervisorFor(c).stop(UI_PROCESS);
    if (reportsDir) fs.rmSync(reportsDir, { recursive: true, force: true });
  });

  it('a lab service answers 421 and its failpoint stays unarmed; the same request under its own Host arms it', async () => {
    const svc = await startTestService(c, 'command-service', { modes: { COMMAND_MODE: 'direct' } });
    const arm = { action: 'error', after: 1000 };
    const refused = await rebinding(svc.url, `/failpoints/${FAILPOINT}`, arm);
    expect(refused.status, refused.body).to.equal(421);
    expect(refused.body).to.contain(`http://127.0.0.1:${svc.port}`);
    expect(await armed(svc.url)).to.deep.equal([]);
    // The control: the request is a real state change, refused for its Host alone.
    const own = await rebinding(svc.url, `/failpoints/${FAILPOINT}`, arm, `127.0.0.1:${svc.port}`);
    expect(own.status, own.body).to.equal(200);
    expect(await armed(svc.url)).to.deep.equal([FAILPOINT]);
  });

  it('the schema registry answers 421 and the subject is not registered', async () => {
    const url = schemaRegistryUrl(c);
    const refused = await rebinding(url, `/subjects/${SUBJECT}/versions`, { schema: SCHEMA });
    expect(refused.status, refused.body).to.equal(421);
    const subjects = (await (await fetch(`${url}/subjects?deleted=true`)).json()) as string[];
    expect(subjects).to.not.include(SUBJECT);
  });

  it('the lab UI answers 421 and injects no toxic', async () => {
    reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-guard-ui-'));
    const ui = await ensureUiProcess(c, { LAB_UI_REPORTS: reportsDir });
    uiStarted = ui.started;
    toxicsBefore = await redisToxics(c);
    const refused = await rebinding(ui.url, '/api/inject', {
      fault: 'latency',
      target: 'redis',
      flags: { 'latency-ms': '150' },
    });
    expect(refused.status, refused.body).to.equal(421);
    expect(await redisToxics(c)).to.deep.equal(toxicsBefore);
  });
});
