import { expect } from 'chai';
import { kafkaBootstrap, loadConfig, portEnvVar } from '../../src/lib/config';

describe('lab config', () => {
  it('uses the seed ports by default', () => {
    const c = loadConfig({});
    expect(c.ports).to.include({
      mysql: 13306,
      redis: 16379,
      commandService: 18080,
      queryService: 18081,
      labUi: 18099,
      schemaRegistry: 18091,
    });
    expect(kafkaBootstrap(c)).to.deep.equal([
      '127.0.0.1:19092',
      '127.0.0.1:19093',
      '127.0.0.1:19094',
    ]);
  });

  it('takes overrides from LAB_*_PORT variables', () => {
    expect(portEnvVar('mysql')).to.equal('LAB_MYSQL_PORT');
    expect(portEnvVar('kafkaClientUpstream')).to.equal('LAB_KAFKA_CLIENT_UPSTREAM_PORT');
    expect(loadConfig({ LAB_MYSQL_PORT: '14306' }).ports.mysql).to.equal(14306);
  });

  it('rejects a bad port naming the variable to fix', () => {
    expect(() => loadConfig({ LAB_MYSQL_PORT: 'abc' })).to.throw(/LAB_MYSQL_PORT=abc is invalid/);
  });

  it('rejects colliding ports', () => {
    expect(() => loadConfig({ LAB_REDIS_PORT: '13306' })).to.throw(/both use 13306/);
  });

  it('rejects a malformed Kafka version', () => {
    expect(() => loadConfig({ LAB_KAFKA_VERSION: 'latest' })).to.throw(/LAB_KAFKA_VERSION=latest/);
  });
});
