import { expect } from 'chai';
import { Registry } from 'prom-client';
import { HttpError } from '../../../src/services/common/app';
import {
  commandMetrics,
  productCreatedEvent,
  productUpdatedEvent,
  timedCommand,
} from '../../../src/services/command/service';

describe('command-service’s events', () => {
  it('ProductCreated is version 1, with the caller’s id or a new one', () => {
    const b = { name: 'a', price: 2, stock: 3 };
    expect(productCreatedEvent({ ...b, id: 7 })).to.include({
      productId: 7,
      version: 1,
      type: 'ProductCreated',
    });
    expect(productCreatedEvent(b, () => 42)).to.include({
      productId: 42,
      name: 'a',
      price: 2,
      stock: 3,
    });
  });

  it('ProductUpdated is the current row one version up, with the request’s fields over it', () => {
    const cur = { name: 'a', price: '2.50', stock: 3, version: 4 };
    expect(productUpdatedEvent(cur, 9, { stock: 1 })).to.include({
      type: 'ProductUpdated',
      productId: 9,
      version: 5,
      name: 'a',
      price: 2.5,
      stock: 1,
    });
  });
});

describe('a timed command', () => {
  const count = async (m: ReturnType<typeof commandMetrics>) =>
    Object.fromEntries(
      (await m.requests.get()).values.map((v) => [String(v.labels.result), v.value]),
    );

  it('counts ok, rejected (a 4xx) and error results, and passes on what it threw', async () => {
    const m = commandMetrics(new Registry());
    expect(await timedCommand(m, 'outbox', 'create', async () => 1)).to.equal(1);
    const e400 = new HttpError(409, 'exists');
    await timedCommand(m, 'outbox', 'create', () => Promise.reject(e400)).catch((e) =>
      expect(e).to.equal(e400),
    );
    await timedCommand(m, 'outbox', 'create', () =>
      Promise.reject(new HttpError(502, 'lost')),
    ).catch(() => {});
    expect(await count(m)).to.deep.equal({ ok: 1, rejected: 1, error: 1 });
  });
});
