import { expect } from 'chai';
import type { Pool } from 'mysql2/promise';
import type { LabConfig } from '../../../src/lib/config';
import { dlqTopic } from '../../../src/lib/events';
import { readTopic } from '../../../src/lib/topics';
import { waitFor } from '../../../src/lib/wait';
import { replayDlq } from '../../../src/services/replay-worker/replay';
import { ensureLab } from '../../support/lab';
import {
  countInTopic,
  freshGroup,
  freshTopic,
  ledgerCount,
  metric,
  produceEvents,
  productEvent,
  resetTables,
  startTestService,
  stopTestServices,
  testPool,
  uniqueId,
  waitCaughtUp,
} from '../../support/services';

describe('a poison message', function () {
  this.timeout(180_000);
  let c: LabConfig;
  let pool: Pool;
  const group = freshGroup('poison');
  let topic: string;
  const poisonId = uniqueId();
  const poison = productEvent(poisonId, 1);
  const healthy = productEvent(uniqueId(), 1);
  let url: string;

  before(async () => {
    c = await ensureLab();
    pool = testPool(c);
    await resetTables(c, pool);
    topic = await freshTopic(c, 'poison');
    // Same partition, poison first: if it blocked the partition, the healthy event behind it would never apply.
    await produceEvents(c, topic, [poison, healthy], 0);
    ({ url } = await startTestService(c, 'consumer-service', {
      modes: { CONSUMER_MODE: 'idempotent' },
      env: {
        LAB_TOPIC: topic,
        LAB_CONSUMER_GROUP: group,
        CONSUMER_POISON: String(poisonId),
        CONSUMER_RETRY_BACKOFF_MS: '10',
      },
    }));
    await waitCaughtUp(c, group, topic);
  });
  after(async () => {
    if (c) await stopTestServices(c);
    await pool?.end();
  });

  it('does not block its partition: the event behind it is applied', async () => {
    expect(await ledgerCount(pool, healthy.eventId, group)).to.equal(1);
    expect(await ledgerCount(pool, poison.eventId, group)).to.equal(0);
    expect(await metric(url, 'lab_consumer_dlq_total')).to.equal(1);
  });

  it('ends in <topic>.DLQ with its payload and the headers replay and operators need', async () => {
    const dlq = await readTopic(c, dlqTopic(topic));
    expect(dlq).to.have.length(1);
    expect(JSON.parse(String(dlq[0].value))).to.deep.equal(poison);
    expect(dlq[0].key).to.equal(String(poisonId));
    expect(dlq[0].headers).to.include({
      'original-topic': topic,
      'original-partition': '0',
      'original-offset': '0',
      attempts: '3',
      'dedup-key': poison.eventId,
      'event-id': poison.eventId,
    });
    expect(dlq[0].headers.error).to.match(/CONSUMER_POISON/);
  });

  it('after the fix (restart without CONSUMER_POISON), is applied once by a replay, and still once after a second replay', async () => {
    const svc = await startTestService(c, 'consumer-service', {
      modes: { CONSUMER_MODE: 'idempotent' },
      env: { LAB_TOPIC: topic, LAB_CONSUMER_GROUP: group },
    });
    const dry = await replayDlq(c, { topic, dryRun: true });
    expect(dry).to.include({ dryRun: true, inDlq: 1, selected: 1, replayed: 0 });
    expect(dry.items[0]).to.include({ eventId: poison.eventId, targetTopic: topic });
    expect(await countInTopic(c, topic, poison.eventId), 'dry run publishes nothing').to.equal(1);

    for (const round of [1, 2]) {
      expect((await replayDlq(c, { topic, dryRun: false })).replayed).to.equal(1);
      await waitCaughtUp(c, group, topic);
      expect(await ledgerCount(pool, poison.eventId, group), `after replay ${round}`).to.equal(1);
    }
    expect(await countInTopic(c, topic, poison.eventId), 'original + two replays').to.equal(3);
    await waitFor(
      'duplicate counted',
      async () => (await metric(svc.url, 'lab_consumer_duplicates_skipped_total')) === 1,
      { timeoutMs: 5000 },
    );
    const [dlqRecord] = await readTopic(c, dlqTopic(topic));
    const replayed = (await readTopic(c, topic)).filter(
      (r) => r.headers['event-id'] === poison.eventId && r.headers['replayed-from'],
    );
    expect(replayed).to.have.length(2);
    expect(replayed[0].headers['replayed-from']).to.equal(
      `${dlqTopic(topic)}/${dlqRecord.partition}/${dlqRecord.offset}`,
    );
    expect(replayed[0].headers).to.not.have.property('error');
    expect(
      replayed.map((r) => r.partition),
      'back on the partition it failed on',
    ).to.deep.equal([0, 0]);
  });
});
