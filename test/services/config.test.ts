import { expect } from 'chai';
import { loadCommandConfig } from '../../src/services/command/config';
import { loadConsumerConfig } from '../../src/services/consumer/config';
import { loadRelayConfig } from '../../src/services/outbox-relay/config';
import { loadReplayConfig } from '../../src/services/replay-worker/config';
import { failpointOwners, SERVICE_NAMES, validateModes } from '../../src/runtime/services';
import { FAILPOINT_NAMES } from '../../src/lib/failpoints';

describe('service configs', () => {
  it('default to outbox, idempotent, lab.products, and the seed ports', () => {
    expect(loadCommandConfig({})).to.include({
      mode: 'outbox',
      topic: 'lab.products',
      port: 18080,
    });
    expect(loadConsumerConfig({})).to.include({
      mode: 'idempotent',
      group: 'lab-consumer',
      maxAttempts: 3,
      port: 18082,
    });
    expect(loadRelayConfig({})).to.deep.include({
      batchSize: 500,
      pollMs: 10,
      shard: { index: 0, count: 1 },
      port: 18083,
    });
    expect(loadReplayConfig({})).to.include({ topic: 'lab.products', port: 18084 });
  });

  it('rejects an unknown mode naming the variable and the valid values', () => {
    expect(() => loadCommandConfig({ COMMAND_MODE: 'sometimes' })).to.throw(
      /COMMAND_MODE=sometimes is invalid for command-service.*\(valid: outbox, direct\)/,
    );
    expect(() => loadConsumerConfig({ CONSUMER_MODE: 'exactly-once' })).to.throw(
      /valid: idempotent, naive, commit-first/,
    );
  });

  it('parses RELAY_SHARD=i/n and rejects i >= n or garbage', () => {
    expect(loadRelayConfig({ RELAY_SHARD: '1/3' }).shard).to.deep.equal({ index: 1, count: 3 });
    expect(() => loadRelayConfig({ RELAY_SHARD: '3/3' })).to.throw(
      /RELAY_SHARD=3\/3 is invalid.*0 <= i < n/,
    );
    expect(() => loadRelayConfig({ RELAY_SHARD: 'half' })).to.throw(/expected i\/n/);
  });

  it('reads CONSUMER_POISON as a trimmed list of ids', () => {
    expect([...loadConsumerConfig({ CONSUMER_POISON: ' 12, 13 ,,abc' }).poison]).to.deep.equal([
      '12',
      '13',
      'abc',
    ]);
  });

  it('rejects bad numbers and topic names at start', () => {
    expect(() => loadRelayConfig({ RELAY_BATCH_SIZE: '0' })).to.throw(/RELAY_BATCH_SIZE=0/);
    expect(() => loadConsumerConfig({ CONSUMER_MAX_ATTEMPTS: 'many' })).to.throw(
      /CONSUMER_MAX_ATTEMPTS=many/,
    );
    expect(() => loadCommandConfig({ LAB_TOPIC: 'has space' })).to.throw(/LAB_TOPIC=has space/);
  });

  it('takes the port from LAB_<SERVICE>_PORT, as startService sets it', () => {
    expect(loadConsumerConfig({ LAB_CONSUMER_SERVICE_PORT: '28182' }).port).to.equal(28182);
  });
});

describe('service registry', () => {
  it('rejects unknown modes and values with the valid ones', () => {
    expect(() => validateModes('consumer-service', { CONSUMER_MODE: 'bogus' })).to.throw(
      /valid: idempotent, naive, commit-first/,
    );
    expect(() => validateModes('query-service', { STAMPEDE: 'lock' })).to.throw(
      /valid: none, singleflight, soft-ttl/,
    );
    expect(() => validateModes('outbox-relay', { COMMAND_MODE: 'direct' })).to.throw(
      /unknown mode variable for outbox-relay/,
    );
    expect(() => validateModes('nope', {})).to.throw(
      /unknown service "nope"; valid: command-service/,
    );
  });

  it('places every failpoint in at least one service', () => {
    const owners = failpointOwners();
    expect(owners.map((o) => o.failpoint)).to.deep.equal([...FAILPOINT_NAMES]);
    for (const o of owners) expect(o.services, o.failpoint).to.not.be.empty;
    expect(SERVICE_NAMES).to.include.members([
      'command-service',
      'query-service',
      'query-service-2',
      'consumer-service',
      'outbox-relay',
      'replay-worker',
    ]);
  });
});
