import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ConfigResourceTypes } from 'kafkajs';
import { kafkaBootstrap } from '../../src/lib/config';
import { labKafka } from '../../src/lib/kafka';
import { READ_UNCOMMITTED, latestOffsets, topicOffsets } from '../../src/lib/offsets';
import { waitFor } from '../../src/lib/wait';
import { ensureLab } from '../support/lab';

/**
 * kafkajs 2.2.4 against the Kafka 4.x brokers we run. Kafka 4 removed old protocol versions (KIP-896); these
 * are the APIs the lab depends on, each exercised for real.
 */
describe('kafkajs 2.2.4 against our Kafka 4 brokers', function () {
  this.timeout(120_000);
  let kafka: Kafka;
  let bootstrap: string;
  let root: string;
  const topic = `test.compat.${randomUUID().slice(0, 8)}`;

  before(async () => {
    const c = await ensureLab();
    root = c.root;
    kafka = labKafka(c, 'compat-test');
    bootstrap = kafkaBootstrap(c)[0];
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 3 }],
    });
    await admin.disconnect();
  });

  after(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  async function consumeAll(
    readUncommitted: boolean,
    expected: number,
    ms = 15_000,
  ): Promise<string[]> {
    const consumer = kafka.consumer({ groupId: `compat-${randomUUID()}`, readUncommitted });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.push(String(message.value));
          if (got.length >= expected) {
            clearTimeout(t);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    return got;
  }

  it('runs admin operations: describe cluster and configs, list and fetch offsets', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const cfg = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] },
      ],
    });
    expect(cfg.resources[0].configEntries[0].configValue).to.equal('2');
    expect((await admin.describeCluster()).brokers).to.have.length(3);
    expect(await admin.listTopics()).to.include(topic);
    await admin.disconnect();
  });

  it('keeps an open transaction out of read_committed (LSO < HW) and shows a committed one; an aborted one never', async () => {
    const producer = kafka.producer({
      transactionalId: `compat-tx-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }] });
    await aborted.abort();

    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
    const open = (await topicOffsets(kafka, topic))[0];
    expect(
      open.lso < open.hw,
      `LSO ${open.lso} < HW ${open.hw} while the transaction is open`,
    ).to.equal(true);
    // Cross-checked with librdkafka (Debian's kcat): its ListOffsets per isolation level gives the same two numbers.
    const kcat = (iso: string) =>
      Number(
        /offset (\d+)/.exec(
          execFileSync(
            'kcat',
            ['-b', bootstrap, '-Q', '-t', `${topic}:0:-1`, '-X', `isolation.level=${iso}`],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
          ),
        )?.[1],
      );
    expect(BigInt(kcat('read_committed'))).to.equal(open.lso);
    expect(BigInt(kcat('read_uncommitted'))).to.equal(open.hw);
    // …and `chaos offsets` shows it to the user.
    const shown = JSON.parse(
      execFileSync(process.execPath, [`${root}/bin/run.js`, 'offsets', topic, '--json'], {
        cwd: root,
        encoding: 'utf8',
      }),
    );
    expect(Number(shown[0].lso)).to.be.lessThan(Number(shown[0].hw));
    expect(await consumeAll(false, 1, 4000)).to.deep.equal([]); // read_committed stops at the LSO: nothing yet
    await tx.commit();
    await producer.disconnect();

    // EndTxn returns once the coordinator logged PrepareCommit; the markers that move the LSO follow shortly.
    const closed = await waitFor(
      'LSO to reach the HW after commit',
      async () => {
        const p = (await topicOffsets(kafka, topic))[0];
        return p.lso === p.hw && p;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    const after = JSON.parse(
      execFileSync(process.execPath, [`${root}/bin/run.js`, 'offsets', topic, '--json'], {
        cwd: root,
        encoding: 'utf8',
      }),
    );
    expect(after[0].lso).to.equal(after[0].hw);
    expect(await consumeAll(false, 2)).to.deep.equal(['committed-1', 'committed-2']);
    expect(await consumeAll(true, 3)).to.include.members([
      'aborted-1',
      'committed-1',
      'committed-2',
    ]);
    expect((await latestOffsets(kafka, topic, [0], READ_UNCOMMITTED)).get(0)).to.equal(closed.hw);
  });

  it('shows LSO < HW in `chaos offsets` while a transaction is open, and LSO = HW once it is aborted', async () => {
    const producer = kafka.producer({
      transactionalId: `compat-tx-abort-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ value: 'to-abort-1' }, { value: 'to-abort-2' }] });
    const offsets = () =>
      JSON.parse(
        execFileSync(process.execPath, [`${root}/bin/run.js`, 'offsets', topic, '--json'], {
          cwd: root,
          encoding: 'utf8',
        }),
      )[0] as { lso: string; hw: string };
    const open = offsets();
    expect(
      Number(open.hw) - Number(open.lso),
      'the two open records sit between the LSO and the HW',
    ).to.equal(2);
    await tx.abort();
    await producer.disconnect();
    // As after a commit: the abort markers are written just after EndTxn returns, then the LSO moves past them.
    await waitFor(
      'LSO to reach the HW after abort',
      async () => {
        const p = (await topicOffsets(kafka, topic))[0];
        return p.lso === p.hw;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    const after = offsets();
    expect(after.lso).to.equal(after.hw);
    // The HW moved past the aborted records and their marker: they stay in the log, filtered by read_committed.
    expect(Number(after.hw)).to.equal(Number(open.hw) + 1);
    const seen = await consumeAll(false, 100, 4000);
    expect(seen).to.include('committed-1');
    expect(seen).to.not.include('to-abort-1');
    expect(seen).to.not.include('to-abort-2');
  });

  it('balances a consumer group and commits its offsets', async () => {
    const groupId = `compat-group-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => void consumer.run({ eachMessage: async () => resolve() }));
    await consumer.disconnect(); // commits on the way out
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    expect(Number(offsets[0].partitions[0].offset)).to.be.greaterThan(0);
  });
});
