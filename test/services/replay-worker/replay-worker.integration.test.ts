import { expect } from 'chai';
import type { LabConfig } from '../../../src/lib/config';
import { dlqTopic, encodeProductEvent, type ProductEvent } from '../../../src/lib/events';
import { labKafka } from '../../../src/lib/kafka';
import { readTopic } from '../../../src/lib/topics';
import { resetOffsets } from '../../../src/services/replay-worker/offset-reset';
import { ensureLab } from '../../support/lab';
import {
  freshGroup,
  freshTopic,
  http,
  metric,
  produceEvents,
  productEvent,
  startTestService,
  stopTestService,
  stopTestServices,
  uniqueId,
  waitCaughtUp,
  waitTestServiceExit,
} from '../../support/services';

/** Puts records in <topic>.DLQ the way consumer-service does, without needing a failing consumer. */
async function seedDlq(c: LabConfig, topic: string, events: ProductEvent[]) {
  const p = labKafka(c, 'test-dlq-seed').producer({ allowAutoTopicCreation: false });
  await p.connect();
  try {
    await p.send({
      topic: dlqTopic(topic),
      acks: -1,
      messages: events.map((e, i) => {
        const m = encodeProductEvent(e);
        return {
          ...m,
          partition: 0,
          headers: {
            ...m.headers,
            'original-topic': topic,
            'original-partition': '0',
            'original-offset': String(i),
            error: 'seeded',
            attempts: '3',
            'dedup-key': e.eventId,
          },
        };
      }),
    });
  } finally {
    await p.disconnect();
  }
}

describe('replay-worker', function () {
  this.timeout(180_000);
  let c: LabConfig;
  before(async () => {
    c = await ensureLab();
  });
  after(async () => {
    if (c) await stopTestServices(c);
  });

  it('over HTTP, lists in a dry run what it would replay (offset filter applied) and publishes nothing', async () => {
    const topic = await freshTopic(c, 'replay-dry');
    const events = [
      productEvent(uniqueId(), 1),
      productEvent(uniqueId(), 1),
      productEvent(uniqueId(), 1),
    ];
    await seedDlq(c, topic, events);
    const svc = await startTestService(c, 'replay-worker', { env: { LAB_TOPIC: topic } });
    const res = await http<{
      selected: number;
      replayed: number;
      items: { eventId: string; offset: string }[];
    }>('POST', `${svc.url}/replay`, { dryRun: true, fromOffset: 1 });
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ selected: 2, replayed: 0 });
    expect(res.body.items.map((i) => i.eventId)).to.deep.equal([
      events[1].eventId,
      events[2].eventId,
    ]);
    expect(await readTopic(c, topic)).to.have.length(0);
    const real = await http<{ replayed: number }>('POST', `${svc.url}/replay`, {
      dryRun: false,
      toOffset: 0,
      maxRate: 50,
    });
    expect(real.body.replayed).to.equal(1);
    expect((await readTopic(c, topic)).map((r) => r.headers['event-id'])).to.deep.equal([
      events[0].eventId,
    ]);
    expect(await metric(svc.url, 'lab_replay_messages_total')).to.equal(1);
  });

  it('killed at replay.before-publish on the 2nd record, has replayed exactly the 1st', async () => {
    const topic = await freshTopic(c, 'replay-crash');
    const events = [
      productEvent(uniqueId(), 1),
      productEvent(uniqueId(), 1),
      productEvent(uniqueId(), 1),
    ];
    await seedDlq(c, topic, events);
    const svc = await startTestService(c, 'replay-worker', { env: { LAB_TOPIC: topic } });
    await http('POST', `${svc.url}/failpoints/replay.before-publish`, {
      action: 'crash',
      after: 2,
    });
    const outcome = await http('POST', `${svc.url}/replay`, { dryRun: false }).then(
      () => 'answered',
      () => 'connection died',
    );
    expect(outcome).to.equal('connection died');
    await waitTestServiceExit(c, 'replay-worker');
    expect((await readTopic(c, topic)).map((r) => r.headers['event-id'])).to.deep.equal([
      events[0].eventId,
    ]);
  });

  describe('offset reset', () => {
    it('shows current → target in a dry run, moves the group only when asked, and refuses while the group has members', async () => {
      const topic = await freshTopic(c, 'reset');
      const group = freshGroup('reset');
      await produceEvents(
        c,
        topic,
        [
          productEvent(uniqueId(), 1),
          productEvent(uniqueId(), 1),
          productEvent(uniqueId(), 1),
          productEvent(uniqueId(), 1),
        ],
        0,
      );
      await startTestService(c, 'consumer-service', {
        env: { LAB_TOPIC: topic, LAB_CONSUMER_GROUP: group },
      });
      await waitCaughtUp(c, group, topic);

      let err: Error | undefined;
      await resetOffsets(c, { groupId: group, topic, to: 'earliest', dryRun: false }).catch(
        (e: Error) => (err = e),
      );
      expect(err?.message).to.match(/only be reset on an empty group; stop its consumers first/);

      await stopTestService(c, 'consumer-service');
      const dry = await resetOffsets(c, { groupId: group, topic, to: 'offset', offset: 1 });
      expect(dry.partitions.find((p) => p.partition === 0)).to.deep.equal({
        partition: 0,
        current: '4',
        target: '1',
      });
      const admin = labKafka(c, 'test-offsets').admin();
      await admin.connect();
      try {
        const committed = async () =>
          (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0].partitions.find(
            (p) => p.partition === 0,
          )!.offset;
        expect(await committed(), 'a dry run changes nothing').to.equal('4');
        const applied = await resetOffsets(c, {
          groupId: group,
          topic,
          to: 'earliest',
          dryRun: false,
        });
        expect(applied.partitions.find((p) => p.partition === 0)!.target).to.equal('0');
        expect(await committed()).to.equal('0');
        await resetOffsets(c, { groupId: group, topic, to: 'latest', dryRun: false });
        expect(await committed()).to.equal('4');
        const byTime = await resetOffsets(c, {
          groupId: group,
          topic,
          to: 'timestamp',
          timestamp: Date.now() + 60_000,
        });
        expect(
          byTime.partitions.find((p) => p.partition === 0)!.target,
          'nothing after the timestamp → the end',
        ).to.equal('4');
      } finally {
        await admin.disconnect();
      }
    });
  });
});
