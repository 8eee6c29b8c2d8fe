import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  decodeProductEvent,
  dlqTopic,
  encodeProductEvent,
  EventDecodeError,
  messageEventId,
  type ProductEvent,
} from '../../src/lib/events';

describe('the product event contract', () => {
  const e: ProductEvent = {
    eventId: randomUUID(),
    type: 'ProductUpdated',
    productId: 42,
    version: 3,
    name: 'kettle',
    price: 19.5,
    stock: 4,
    occurredAt: new Date().toISOString(),
  };

  it('keys by product id and carries the event id as a header', () => {
    const m = encodeProductEvent(e);
    expect(m.key).to.equal('42');
    expect(m.headers).to.deep.equal({ 'event-id': e.eventId });
    expect(decodeProductEvent(Buffer.from(String(m.value)))).to.deep.equal(e);
  });

  it('names the DLQ <topic>.DLQ', () =>
    expect(dlqTopic('lab.products')).to.equal('lab.products.DLQ'));

  it('rejects broken values with a non-retriable error (they belong in the DLQ)', () => {
    for (const bad of [
      null,
      Buffer.from('{nope'),
      Buffer.from(JSON.stringify({ ...e, type: 'ProductDeleted' })),
    ]) {
      let err: unknown;
      try {
        decodeProductEvent(bad);
      } catch (x) {
        err = x;
      }
      expect(err).to.be.instanceOf(EventDecodeError);
      expect((err as EventDecodeError).retriable).to.equal(false);
    }
  });

  it('finds the event id in the header even when the body is broken', () => {
    expect(
      messageEventId({ headers: { 'event-id': Buffer.from('abc') }, value: Buffer.from('{') }),
    ).to.equal('abc');
    expect(messageEventId({ headers: {}, value: Buffer.from(JSON.stringify(e)) })).to.equal(
      e.eventId,
    );
  });
});
