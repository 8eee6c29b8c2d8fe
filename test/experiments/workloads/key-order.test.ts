import { expect } from 'chai';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FiredStep, Step, WorkloadContext } from '../../../src/experiments/workloads/api';
import { holdRounds, outboxIo, type OutboxIo } from '../../../src/experiments/workloads/key-order';
import { runPort } from '../../../src/runtime/run-port';

type Params = { rounds: number; holdMs: number };
const holdStep = (service: string) =>
  ({
    name: `hold ${service}`,
    at: { moment: 'hold-claim' },
    fault: { kind: 'failpoint', service },
  }) as unknown as Step;

/** A context with the file's hold steps (one per relay); every fire and undo lands in `log`. */
function fakeCtx(o: { steps?: Step[]; applied?: boolean; rounds?: number } = {}) {
  const log: string[] = [];
  const notes: string[] = [];
  const ctx = {
    params: { rounds: o.rounds ?? 2, holdMs: 100 },
    seed: 7,
    experiment: { id: 'E-011' },
    stepsAt: (m: string) =>
      m === 'hold-claim' ? (o.steps ?? [holdStep('outbox-relay'), holdStep('outbox-relay-2')]) : [],
    throwIfAborted: () => {},
    note: (w: string) => notes.push(w),
    fire: async (step: Step, overrides?: Record<string, unknown>): Promise<FiredStep> => {
      const svc = (step.fault as { service: string }).service;
      log.push(`fire ${svc} key=${String(overrides?.key)}`);
      return { applied: o.applied ?? true, undo: async () => void log.push(`undo ${svc}`) };
    },
  } as unknown as WorkloadContext<Params>;
  return { ctx, log, notes };
}

/** command-service, the relays and the outbox as a fake: `holder` is the relay whose failpoint fired. */
function fakeIo(
  log: string[],
  o: { holder?: string; outOfOrder?: number[]; refuse?: (path: string) => boolean } = {},
) {
  const io: OutboxIo = {
    command: async (method, path) => (log.push(`${method} ${path}`), !o.refuse?.(path)),
    fired: async (service) => service === o.holder,
    waitPublished: async (id) => void log.push(`published ${id ?? 'all'}`),
    lastTwo: async (id) => {
      const late = o.outOfOrder?.includes(id);
      return [
        {
          eventId: `e${id}a`,
          version: 2,
          publishedAt: late ? '2026-01-01 00:00:02.000000' : '2026-01-01 00:00:01.000000',
        },
        {
          eventId: `e${id}b`,
          version: 3,
          publishedAt: late ? '2026-01-01 00:00:01.000000' : '2026-01-01 00:00:02.000000',
        },
      ] as const;
    },
  };
  return io;
}

/** The run's services all at one URL: a RunPort whose failpoint calls go to a local server. */
const portAt = (url: string) => {
  const unused = () => Promise.reject(new Error('not used by outboxIo'));
  return runPort({
    url: () => url,
    start: unused,
    stop: unused,
    stopped: () => false,
    replay: unused,
  });
};

describe('key-order: the hold rounds (fake context, fake command-service, relays and outbox)', () => {
  it('creates the products, then per product holds the first change on the relay that claimed it while the second is sent', async () => {
    const { ctx, log } = fakeCtx({ rounds: 1 });
    const r = await holdRounds(ctx, fakeIo(log, { holder: 'outbox-relay-2' }));
    expect(log).to.deep.equal([
      'POST /products',
      'published all',
      'fire outbox-relay key=1',
      'fire outbox-relay-2 key=1',
      'PUT /products/1',
      // the other relay is freed before the second change, the holder only once it is published
      'undo outbox-relay',
      'PUT /products/1',
      'published 1',
      'undo outbox-relay-2',
    ]);
    expect(r).to.deep.include({ sent: 3, failed: 0 });
    expect(r.rounds[0]).to.deep.include({ productId: 1, heldBy: 'outbox-relay-2' });
  });

  it('tells which products had their second change published before the held one', async () => {
    const { ctx, log, notes } = fakeCtx({ rounds: 2 });
    const r = await holdRounds(ctx, fakeIo(log, { holder: 'outbox-relay', outOfOrder: [2] }));
    expect(r.rounds.map((x) => x.next.publishedAt < x.held.publishedAt)).to.deep.equal([
      false,
      true,
    ]);
    expect(notes.slice(-2)).to.deep.equal([
      'product 1: outbox-relay held v2; v3 published after it',
      'product 2: outbox-relay held v2; v3 published BEFORE it',
    ]);
  });

  it('waits for no relay in a counterfactual run (holds recorded, not armed) and releases every hold at once', async () => {
    const { ctx, log } = fakeCtx({ rounds: 1, applied: false });
    const r = await holdRounds(ctx, fakeIo(log));
    expect(log.slice(2, 8)).to.deep.equal([
      'fire outbox-relay key=1',
      'fire outbox-relay-2 key=1',
      'PUT /products/1',
      'undo outbox-relay',
      'undo outbox-relay-2',
      'PUT /products/1',
    ]);
    expect(r.rounds[0].heldBy).to.equal('no relay (not held)');
  });

  it('counts a command that command-service refused as failed and goes on', async () => {
    const { ctx, log } = fakeCtx({ rounds: 2 });
    const r = await holdRounds(
      ctx,
      fakeIo(log, { holder: 'outbox-relay', refuse: (p) => p === '/products' }),
    );
    expect(r).to.deep.include({ sent: 6, failed: 2 });
  });

  it('sends the same seeded change bodies for the same seed', async () => {
    const bodies = async () => {
      const { ctx, log } = fakeCtx({ rounds: 2 });
      const sent: object[] = [];
      const io = {
        ...fakeIo(log, { holder: 'outbox-relay' }),
        command: async (_m: string, _p: string, b: object) => (sent.push(b), true),
      };
      await holdRounds(ctx, io);
      return sent;
    };
    expect(await bodies()).to.deep.equal(await bodies());
  });

  it('refuses to run without a step at the hold-claim moment', async () => {
    const { ctx, log } = fakeCtx({ steps: [] });
    let err: Error | undefined;
    await holdRounds(ctx, fakeIo(log)).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/^E-011: no step at \{ moment: hold-claim \}/);
    expect(log).to.deep.equal([]);
  });
});

describe('key-order: command-service and the relays through HTTP (a local server)', () => {
  let server: http.Server | undefined;
  afterEach(async () => new Promise<void>((res) => (server ? server.close(() => res()) : res())));

  async function serve(handler: http.RequestListener) {
    server = http.createServer(handler);
    await new Promise<void>((res) => server!.listen(0, '127.0.0.1', res));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return outboxIo({ services: portAt(url) } as unknown as WorkloadContext<Params>);
  }

  it('says a command went through only on a 2xx answer, and a refused connection is a failed command', async () => {
    const io = await serve((req, res) => {
      res.writeHead(req.url === '/products' ? 201 : 409);
      res.end();
    });
    expect(await io.command('POST', '/products', { id: 1 })).to.equal(true);
    expect(await io.command('PUT', '/products/1', {})).to.equal(false);
    const unreachable = outboxIo({
      services: portAt('http://127.0.0.1:1'),
    } as unknown as WorkloadContext<Params>);
    expect(await unreachable.command('POST', '/products', {})).to.equal(false);
  });

  it('takes a relay failpoint as fired once it is gone from the armed list', async () => {
    let armed = [{ name: 'relay.before-publish' }];
    const io = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ armed }));
    });
    expect(await io.fired('outbox-relay')).to.equal(false);
    armed = [];
    expect(await io.fired('outbox-relay')).to.equal(true);
  });
});
