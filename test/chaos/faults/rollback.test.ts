import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { applyFault, type FaultEnv } from '../../../src/chaos/faults';
import { timedUndo } from '../../../src/chaos/faults/timed-undo';
import { removeToxic, ToxicError } from '../../../src/chaos/toxics';
import { loadConfig } from '../../../src/lib/config';
import { freePort } from '../../../src/runtime/ports';
import { serviceApp, serviceContext } from '../../../src/services/common/app';
import { runPort } from '../../../src/runtime/run-port';

/** A FaultEnv for faults that need nothing but a service URL: the rest must not be called. */
function envFor(serviceUrl: () => string): FaultEnv {
  const unused = () => Promise.reject(new Error('not used by this fault'));
  return {
    c: loadConfig({}),
    port: runPort({
      url: serviceUrl,
      start: unused,
      stop: unused,
      stopped: () => false,
      replay: unused,
    }),
    topic: 'lab.test.rollback',
    note: () => {},
  };
}

describe('fault rollbacks', () => {
  describe("of a failpoint, armed in a real service app (the lab services' own /failpoints routes)", () => {
    let server: Server;
    let url: string;
    before(async () => {
      // Quiet for this in-process app only: every service the suite starts later inherits process.env.
      const level = process.env.LAB_LOG_LEVEL;
      process.env.LAB_LOG_LEVEL = 'silent';
      const context = serviceContext('outbox-relay', new Registry());
      if (level === undefined) delete process.env.LAB_LOG_LEVEL;
      else process.env.LAB_LOG_LEVEL = level;
      const app = serviceApp(context);
      server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server.close());

    const armed = async () =>
      (
        (await (await fetch(`${url}/failpoints`)).json()) as { armed: { name: string }[] }
      ).armed.map((a) => a.name);

    it('disarms exactly the failpoint it armed', async () => {
      const fault = {
        type: 'failpoint',
        service: 'outbox-relay',
        failpoint: 'relay.before-publish',
        action: 'error',
        after: 3,
        delayMs: 0,
        repeat: 1,
        sticky: false,
      } as const;
      const applied = await applyFault(
        envFor(() => url),
        fault,
        { index: 0, name: 'arm' },
      );
      expect(await armed()).to.deep.equal(['relay.before-publish']);
      expect(applied.rollback?.leftover).to.equal(
        'failpoint relay.before-publish armed in outbox-relay',
      );
      await applied.rollback!.run();
      expect(await armed()).to.deep.equal([]);
    });

    it('treats a service that no longer answers as holding no failpoint (it died with the process), but throws on an HTTP refusal', async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      let target = url;
      const fault = {
        type: 'failpoint',
        service: 'outbox-relay',
        failpoint: 'relay.after-publish-before-mark',
        action: 'crash',
        after: 1,
        delayMs: 0,
        repeat: 1,
        sticky: false,
      } as const;
      const applied = await applyFault(
        envFor(() => target),
        fault,
        { index: 0, name: 'arm' },
      );
      target = closed; // the crash failpoint took the process down before the rollback
      await applied.rollback!.run();
      target = `${url}/not-the-service`; // something answers, and refuses: the failpoint may still be armed
      const err = await applied.rollback!.run().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(
        /disarming relay\.after-publish-before-mark on outbox-relay failed: HTTP 404/,
      );
    });
  });

  it("of a toxic throws a ToxicError naming Toxiproxy's URL and the fix when Toxiproxy is not there", async () => {
    const c = loadConfig({ LAB_TOXIPROXY_PORT: String(await freePort()) });
    const err = await removeToxic(c, 'mysql', 'exp0_latency_downstream').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(ToxicError);
    expect(err!.message).to.match(
      /Toxiproxy unreachable at http:\/\/127\.0\.0\.1:\d+ .*run `chaos up`, then `chaos heal`/,
    );
  });

  describe('with a duration (timedUndo)', () => {
    it('undoes once: a rollback after the timer did it succeeds without undoing again', async () => {
      let undone = 0;
      const notes: string[] = [];
      const run = timedUndo({
        undo: async () => void undone++,
        afterMs: 10,
        what: 'undone',
        note: (w) => void notes.push(w),
      });
      await new Promise((r) => setTimeout(r, 50));
      await run();
      expect(undone).to.equal(1);
      expect(notes).to.deep.equal(['undone after 10 ms']);
    });

    it('leaves a failed timed undo to the rollback, which throws when it fails again', async () => {
      const notes: string[] = [];
      const run = timedUndo({
        undo: () => Promise.reject(new Error('toxiproxy down')),
        afterMs: 10,
        what: 'undone',
        note: (w) => void notes.push(w),
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(notes).to.deep.equal([
        'undone after 10 ms FAILED (toxiproxy down); the rollback tries again',
      ]);
      const err = await run().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.equal('toxiproxy down');
    });

    it('does not fire its timer once the rollback ran', async () => {
      let undone = 0;
      const notes: string[] = [];
      const run = timedUndo({
        undo: async () => void undone++,
        afterMs: 20,
        what: 'undone',
        note: (w) => void notes.push(w),
      });
      await run();
      await new Promise((r) => setTimeout(r, 60));
      expect(undone).to.equal(1);
      expect(notes).to.deep.equal([]);
    });
  });
});
