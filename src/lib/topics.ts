import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { bestEffort } from './best-effort';
import type { LabConfig } from './config';
import { LabError } from './errors';
import { headerStrings } from './events';
import { labKafka } from './kafka';
import { sleep, waitFor } from './wait';

/** RF 3 with min.insync.replicas 2: acks=all survives one broker down, and refuses writes with two down. */
export const TOPIC_DEFAULTS = {
  numPartitions: 3,
  replicationFactor: 3,
  minInsyncReplicas: 2,
} as const;

/** Creates each missing topic and waits for its leaders. Concurrent callers racing to create are fine. */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  opts: Partial<typeof TOPIC_DEFAULTS> = {},
): Promise<string[]> {
  const o = { ...TOPIC_DEFAULTS, ...opts };
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length) {
      // Retried: while a broker is down or the controller moves, createTopics fails transiently
      // (e.g. "This server does not host this topic-partition") — the topic often exists afterwards anyway.
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((topic) => ({
              topic,
              numPartitions: o.numPartitions,
              replicationFactor: o.replicationFactor,
              configEntries: [{ name: 'min.insync.replicas', value: String(o.minInsyncReplicas) }],
            })),
          });
          break;
        } catch (e) {
          // Another service created it between our list and create: that is the outcome we wanted.
          if ((e as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') break;
          // A failed listing reads as "not there yet": the loop retries, and names the topics after the last try.
          const now = new Set(await admin.listTopics().catch(() => [] as string[]));
          if (missing.every((t) => now.has(t))) break;
          if (attempt >= 5)
            throw new LabError(
              `cannot create topics ${missing.join(', ')}: ${(e as Error).message}; is the Kafka cluster healthy (chaos status)?`,
              { cause: e, retriable: true },
            );
          await sleep(1000 * attempt);
        }
      }
      await waitFor(
        `leaders for ${missing.join(', ')}`,
        async () => {
          const md = await admin.fetchTopicMetadata({ topics: missing });
          return md.topics.every(
            (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
          );
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}

export interface TopicRecord {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** kafkajs' KafkaJSDeleteGroupsError lists each group with the broker's error. */
interface GroupError {
  groupId: string;
  error?: { type?: string };
}

/**
 * Every record of `topic` up to the high watermarks seen at the start, in partition/offset order. Reads through a
 * throwaway consumer group that is deleted afterwards. Used by tests, the audit and the replay worker.
 */
export async function readTopic(
  c: Pick<LabConfig, 'host' | 'ports' | 'brokerCount'>,
  topic: string,
  { timeoutMs = 60_000 } = {},
): Promise<TopicRecord[]> {
  const kafka = labKafka(c, 'lab-topic-reader');
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `lab-reader-${randomUUID()}`;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const ends = new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
    const starts = new Map(offsets.map((p) => [p.partition, BigInt(p.low)]));
    const pending = new Set(
      [...ends].filter(([p, high]) => high > (starts.get(p) ?? 0n)).map(([p]) => p),
    );
    const out: TopicRecord[] = [];
    if (pending.size === 0) return out;
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const high = ends.get(partition) ?? 0n;
          if (BigInt(message.offset) >= high) return;
          out.push({
            partition,
            offset: message.offset,
            timestamp: message.timestamp,
            key: message.key?.toString() ?? null,
            value: message.value,
            headers: headerStrings(message.headers),
          });
          if (BigInt(message.offset) >= high - 1n) {
            pending.delete(partition);
            if (pending.size === 0) done();
          }
        },
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        finished,
        new Promise(
          (_, rej) =>
            (timer = setTimeout(
              () =>
                rej(
                  new LabError(
                    `reading ${topic} did not reach its end in ${timeoutMs} ms (partitions left: ${[...pending].join(',')})`,
                    { retriable: true },
                  ),
                ),
              timeoutMs,
            )),
        ),
      ]);
      clearTimeout(timer);
    } finally {
      await consumer.disconnect();
    }
    return out.sort(
      (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
    );
  } finally {
    await bestEffort(
      admin.deleteGroups([groupId]).catch((err: Error & { groups?: GroupError[] }) => {
        // A group that never committed is gone once its member left (or never joined): nothing is left behind.
        if (!err.groups?.length || err.groups.some((g) => g.error?.type !== 'GROUP_ID_NOT_FOUND'))
          throw err;
      }),
      `deleting the scratch consumer group ${groupId}`,
    );
    await admin.disconnect();
  }
}
