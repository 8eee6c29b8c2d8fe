import type { Kafka, KafkaMessage } from 'kafkajs';
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

/** The part of a record a reader of `readToEnds` gets, with where it came from. */
export interface EndRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

type Reader = Pick<LabConfig, 'host' | 'ports' | 'brokerCount'>;

/**
 * Every record of `topics` up to the high watermarks seen at the start (the ends), handed to `onRecord` as it
 * arrives, through a throwaway consumer group (read_committed, kafkajs' default) deleted afterwards. Throws a
 * retriable LabError naming the partitions left when the ends are not reached in `timeoutMs`.
 */
export async function readToEnds(
  c: Reader,
  topics: string[],
  onRecord: (r: EndRecord) => void,
  { timeoutMs = 60_000, clientId = 'lab-topic-reader' } = {},
): Promise<void> {
  const kafka = labKafka(c, clientId);
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `lab-reader-${randomUUID()}`;
  try {
    const ends = new Map<string, bigint>(); // `${topic}/${partition}` → high watermark at the start
    for (const topic of topics)
      for (const p of await admin.fetchTopicOffsets(topic))
        if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}/${p.partition}`, BigInt(p.high));
    if (ends.size === 0) return;
    const pending = new Set(ends.keys());
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    await consumer.connect();
    try {
      await consumer.subscribe({
        topics: [...new Set([...ends.keys()].map(topicOf))],
        fromBeginning: true,
      });
      await untilEnds(topics, pending, timeoutMs, (done) =>
        consumer.run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            const high = ends.get(`${topic}/${partition}`) ?? 0n;
            if (BigInt(message.offset) >= high) return;
            onRecord({ topic, partition, message });
            if (BigInt(message.offset) >= high - 1n && pending.delete(`${topic}/${partition}`))
              if (pending.size === 0) done();
          },
        }),
      );
    } finally {
      await consumer.disconnect();
    }
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

const topicOf = (key: string) => key.slice(0, key.lastIndexOf('/'));

/** Starts the consumer (`start`, given the callback that ends the read) and waits for the ends, or the timeout. */
async function untilEnds(
  topics: string[],
  pending: Set<string>,
  timeoutMs: number,
  start: (done: () => void) => Promise<void>,
): Promise<void> {
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await start(done);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, rej) => {
    timer = setTimeout(() => {
      const what = topics.length === 1 ? `reading ${topics[0]}` : `reading ${topics.join(', ')}`;
      rej(
        new LabError(
          `${what} did not reach the end in ${timeoutMs} ms (partitions left: ${[...pending].join(', ')})`,
          { retriable: true },
        ),
      );
    }, timeoutMs);
  });
  try {
    await Promise.race([finished, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every record of `topic` up to the high watermarks seen at the start, in partition/offset order. Used by tests, the
 * audit and the replay worker.
 */
export async function readTopic(
  c: Reader,
  topic: string,
  { timeoutMs = 60_000 } = {},
): Promise<TopicRecord[]> {
  const out: TopicRecord[] = [];
  await readToEnds(
    c,
    [topic],
    ({ partition, message }) =>
      out.push({
        partition,
        offset: message.offset,
        timestamp: message.timestamp,
        key: message.key?.toString() ?? null,
        value: message.value,
        headers: headerStrings(message.headers),
      }),
    { timeoutMs },
  );
  return out.sort(
    (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
}
