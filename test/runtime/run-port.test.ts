import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  FAILPOINT_TIMEOUT_MS,
  FailpointError,
  failpointsAt,
  runPort,
  type RunPort,
} from '../../src/runtime/run-port';

/** A tiny service: records each request, answers GET /failpoints with `armed`, anything else with `status`. */
describe('RunPort failpoints (a local HTTP server, no stack)', () => {
  let server: Server;
  let url: string;
  let status = 200;
  let armed: { name: string; action: string; after: number; fired: number }[] = [];
  const seen: { method: string; path: string; body: string }[] = [];
  let port: RunPort;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', path: req.url ?? '', body });
        res.statusCode = status;
        res.setHeader('content-type', 'application/json');
        res.end(
          status !== 200
            ? 'refused'
            : JSON.stringify(req.method === 'GET' ? { armed } : { ok: true }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    port = runPort({
      url: () => url,
      start: async () => {},
      stop: async () => {},
      stopped: () => false,
      replay: async () => ({ inDlq: 0, selected: 0, replayed: 0 }),
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    status = 200;
    armed = [];
    seen.length = 0;
  });

  it('arms with POST /failpoints/<name> and the spec as JSON (key only when given)', async () => {
    await port.failpoints.arm('outbox-relay', 'relay.before-publish', {
      action: 'crash',
      after: 2,
      delayMs: 0,
      sticky: false,
    });
    await port.failpoints.arm('outbox-relay', 'relay.before-publish', {
      action: 'delay',
      after: 1,
      delayMs: 50,
      sticky: true,
      key: '7',
    });
    expect(seen.map((s) => `${s.method} ${s.path}`)).to.deep.equal([
      'POST /failpoints/relay.before-publish',
      'POST /failpoints/relay.before-publish',
    ]);
    expect(JSON.parse(seen[0].body)).to.deep.equal({
      action: 'crash',
      after: 2,
      delayMs: 0,
      sticky: false,
    });
    expect(JSON.parse(seen[1].body)).to.include({ key: '7', sticky: true, delayMs: 50 });
  });

  it('disarms one with DELETE /failpoints/<name>, all with DELETE /failpoints', async () => {
    await port.failpoints.disarm('consumer-service', 'consumer.before-commit');
    await port.failpoints.disarmAll('consumer-service');
    expect(seen.map((s) => `${s.method} ${s.path}`)).to.deep.equal([
      'DELETE /failpoints/consumer.before-commit',
      'DELETE /failpoints',
    ]);
  });

  it('reads what is armed, and a one-shot failpoint as fired once it is gone from the list', async () => {
    armed = [{ name: 'relay.before-publish', action: 'crash', after: 1, fired: 0 }];
    expect(await port.failpoints.armed('outbox-relay')).to.deep.equal(armed);
    expect(await port.failpoints.fired('outbox-relay', 'relay.before-publish')).to.equal(false);
    armed = [];
    expect(await port.failpoints.fired('outbox-relay', 'relay.before-publish')).to.equal(true);
    expect(seen.every((s) => s.method === 'GET' && s.path === '/failpoints')).to.equal(true);
  });

  it('throws a FailpointError (http, with its fix) when the service refuses', async () => {
    status = 500;
    const err = await port.failpoints
      .arm('outbox-relay', 'relay.before-publish', {
        action: 'crash',
        after: 1,
        delayMs: 0,
        sticky: false,
      })
      .then(
        () => expect.fail('arming a refused failpoint succeeded'),
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(FailpointError);
    expect((err as FailpointError).reason).to.equal('http');
    expect((err as FailpointError).message).to.equal(
      'arming relay.before-publish on outbox-relay failed: HTTP 500 refused',
    );
    expect((err as FailpointError).fix).to.match(/chaos services failpoints/);
  });

  it('throws a FailpointError (unreachable) when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failpointsAt(dead, 'query-service')
      .disarmAll()
      .then(
        () => expect.fail('a disarm with nobody listening succeeded'),
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(FailpointError);
    expect((err as FailpointError).reason).to.equal('unreachable');
    expect((err as FailpointError).message).to.match(
      /^disarming the failpoints of query-service failed: .* unreachable \(/,
    );
    expect((err as FailpointError).fix).to.match(/chaos services restart query-service/);
  });

  it('has one timeout for every failpoint call: the longest the callers had (5 s)', () => {
    expect(FAILPOINT_TIMEOUT_MS).to.equal(5000);
  });
});
