import { expect } from 'chai';
import { loadConfig } from '../../src/lib/config';
import { heal, HealError, type HealDeps } from '../../src/chaos/heal';

/** A lab as heal sees it: what each step answers, and which services are alive afterwards. */
function fakeLab(o: {
  resumeFails?: string[];
  toxics?: 'removed' | 'not-running' | Error;
  services?: { service: string; port: number }[];
  disarmFails?: number[];
  dead?: string[];
}): HealDeps & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    resumeAll: async () => ({
      resumed: ['kafka-2'],
      failed: (o.resumeFails ?? []).map((component) => ({
        component,
        error: new Error('EPERM'),
      })),
    }),
    removeToxics: async () => {
      calls.push('toxics');
      if (o.toxics instanceof Error) throw o.toxics;
      return o.toxics !== 'not-running';
    },
    runningServices: async () => o.services ?? [],
    disarm: async ({ port }) => {
      calls.push(`disarm ${port}`);
      if (o.disarmFails?.includes(port)) throw new Error(`DELETE :${port}/failpoints: HTTP 500`);
    },
    isAlive: (service) => !o.dead?.includes(service),
  };
}

const c = loadConfig({});
const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('heal reported everything undone'),
    (e: unknown) => e as HealError,
  );

describe('heal (the last-resort rollback records what it could not undo)', () => {
  it('undoes everything and returns what it did, with no failures', async () => {
    const lab = fakeLab({ services: [{ service: 'command-service', port: 18080 }] });
    const r = await heal(c, lab);
    expect(r).to.deep.equal({
      toxicsRemoved: true,
      resumed: ['kafka-2'],
      failpointsDisarmed: ['command-service'],
      failed: [],
    });
  });

  it('throws a HealError naming a failed disarm of a live service and its fix, after trying every other step', async () => {
    const lab = fakeLab({
      services: [
        { service: 'command-service', port: 18080 },
        { service: 'outbox-relay', port: 18083 },
      ],
      disarmFails: [18080],
    });
    const err = await failure(heal(c, lab));
    expect(err).to.be.instanceOf(HealError);
    expect(lab.calls).to.deep.equal(['toxics', 'disarm 18080', 'disarm 18083']);
    expect(err.result.failpointsDisarmed).to.deep.equal(['outbox-relay']);
    expect(err.result.failed).to.have.length(1);
    expect(err.result.failed[0].step).to.contain('command-service');
    expect(err.message)
      .to.contain('HTTP 500')
      .and.contain('chaos services restart command-service');
  });

  it('does not count a service that died since the status read: its failpoints died with it', async () => {
    const lab = fakeLab({
      services: [{ service: 'command-service', port: 18080 }],
      disarmFails: [18080],
      dead: ['command-service'],
    });
    expect((await heal(c, lab)).failpointsDisarmed).to.deep.equal([]);
  });

  it('records a Toxiproxy that refused the reset and a process it could not resume, but not a Toxiproxy that is not running', async () => {
    const refused = await failure(
      heal(c, fakeLab({ toxics: new Error('HTTP 500'), resumeFails: ['kafka-1'] })),
    );
    expect(refused.result.failed.map((f) => f.step)).to.deep.equal([
      'resume kafka-1',
      'remove every toxic',
    ]);
    expect(refused.result.toxicsRemoved).to.equal(false);
    expect((await heal(c, fakeLab({ toxics: 'not-running' }))).toxicsRemoved).to.equal(false);
  });
});
