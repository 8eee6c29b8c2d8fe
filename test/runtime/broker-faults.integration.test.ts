import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { signalComponent } from '../../src/chaos/process-faults';
import { addToxic, removeToxic } from '../../src/chaos/toxics';
import type { LabConfig } from '../../src/lib/config';
import { labKafka } from '../../src/lib/kafka';
import { waitFor } from '../../src/lib/wait';
import { silentProgress } from '../../src/runtime/progress';
import { up } from '../../src/runtime/stack';
import { ensureLab } from '../support/lab';

/**
 * One partition on replicas [1,2,3] (leader 1), RF=3, min.insync.replicas=2. Brokers are combined
 * broker+controller nodes, so killing two of three also loses the KRaft quorum: the ISR can then no longer
 * shrink and writes time out rather than fail fast. Both ways, no acks=all write is acknowledged.
 */
describe('acks=all durability under broker kills (RF=3, min.insync.replicas=2)', function () {
  this.timeout(300_000);
  let c: LabConfig;
  let kafka: Kafka;
  let admin: Admin;
  const topic = `test.durability.${randomUUID().slice(0, 8)}`;

  before(async () => {
    c = await ensureLab();
    kafka = labKafka(c, 'durability-test', { retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 2000 } });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }], configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
    });
  });

  after(async () => {
    await removeToxic(c, 'kafka-1-internal', 'down', 'down').catch(() => {});
    await removeToxic(c, 'kafka-2-internal', 'down', 'down').catch(() => {});
    await admin.disconnect().catch(() => {});
    await up(c, silentProgress); // restarts the killed brokers and waits until the cluster is in sync again
    const a = labKafka(c, 'durability-cleanup').admin();
    await a.connect();
    await a.deleteTopics({ topics: [topic] }).catch(() => {});
    await a.disconnect();
  });

  const isr = async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions[0].isr.sort();

  /** Sends one acks=all write; resolves to 'acked' or the Kafka error type that refused it. */
  async function write(timeoutMs = 8000): Promise<string> {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 1 } });
    try {
      await producer.connect();
      await producer.send({ topic, acks: -1, timeout: timeoutMs, messages: [{ key: '0', value: randomUUID() }] });
      return 'acked';
    } catch (e) {
      const err = e as { type?: string; cause?: { type?: string }; originalError?: { type?: string }; name: string };
      return err.type ?? err.originalError?.type ?? err.cause?.type ?? err.name;
    } finally {
      await producer.disconnect().catch(() => {});
    }
  }

  it('accepts acks=all writes with one broker killed -9', async () => {
    expect(await write()).to.equal('acked');
    signalComponent(c, 'kafka-3', 'kill');
    await waitFor('ISR to shrink to [1,2]', async () => JSON.stringify(await isr()) === '[1,2]', { timeoutMs: 30_000, intervalMs: 500 });
    expect(await write()).to.equal('acked');
  });

  it('refuses acks=all writes with NOT_ENOUGH_REPLICAS when the last follower is cut off too', async () => {
    // The second replica is removed by cutting replication on the wire (the controller quorum of nodes 1+2
    // stays up, so the ISR can shrink to the leader alone and the leader refuses the write).
    await addToxic(c, { proxy: 'kafka-1-internal', type: 'down', name: 'down' });
    await addToxic(c, { proxy: 'kafka-2-internal', type: 'down', name: 'down' });
    // A leader only drops a follower that lags behind a write, so keep writing (these are refused or time out)
    // until the ISR is the leader alone.
    const whileShrinking: string[] = [];
    await waitFor('ISR to shrink to [1]', async () => {
      whileShrinking.push(await write(3000));
      return JSON.stringify(await isr()) === '[1]';
    }, { timeoutMs: 60_000, intervalMs: 200 });
    expect(whileShrinking).to.not.include('acked');
    expect(await write()).to.equal('NOT_ENOUGH_REPLICAS');
    await removeToxic(c, 'kafka-1-internal', 'down', 'down');
    await removeToxic(c, 'kafka-2-internal', 'down', 'down');
    await waitFor('ISR to grow back to [1,2]', async () => JSON.stringify(await isr()) === '[1,2]', { timeoutMs: 40_000, intervalMs: 500 });
  });

  it('acknowledges no acks=all write with two brokers killed -9 (quorum lost: the write times out)', async () => {
    signalComponent(c, 'kafka-2', 'kill');
    const outcome = await write(5000);
    expect(outcome).to.not.equal('acked');
    // Which error the client sees depends on timing (timeout, closed connection, leader not available);
    // what matters is that nothing was acknowledged.
    expect(outcome).to.be.a('string').and.not.empty;
  });
});
