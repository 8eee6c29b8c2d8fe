import { expect } from 'chai';
import { portEnvVar } from '../../../src/lib/config';
import { loadRelayConfig } from '../../../src/services/outbox-relay/config';

describe('the outbox relay’s port', () => {
  it('is outbox-relay-2’s own when the runtime starts that service (the env variable it sets, its Prometheus target)', () => {
    const env = { LAB_SERVICE_NAME: 'outbox-relay-2', [portEnvVar('outboxRelay2')]: '18087' };
    expect(loadRelayConfig(env)).to.include({ name: 'outbox-relay-2', port: 18087 });
  });

  it('is the one given to a numbered copy of outbox-relay, whose process name is the same', () => {
    const env = { LAB_SERVICE_NAME: 'outbox-relay-2', [portEnvVar('outboxRelay')]: '18183' };
    expect(loadRelayConfig(env).port).to.equal(18183);
  });
});
