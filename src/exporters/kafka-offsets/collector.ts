import type { Admin, Kafka } from 'kafkajs';
import { bestEffort } from '../../lib/best-effort';
import { LabError } from '../../lib/errors';
import {
  atMost,
  isolationCluster,
  readBetweenHws,
  READ_COMMITTED,
  READ_UNCOMMITTED,
  type ClusterLike,
} from '../../lib/offsets';

export interface PartitionSnapshot {
  topic: string;
  partition: number;
  logStart: bigint;
  /** last stable offset: a read_committed consumer reads no further */
  lso: bigint;
  /** high watermark: a read_uncommitted consumer reads no further */
  hw: bigint;
}

export interface Snapshot {
  partitions: PartitionSnapshot[];
  /** lab topics over the cap, not exported this time */
  dropped: number;
}

export class CollectTimeoutError extends LabError {
  constructor(ms: number) {
    super(
      `reading the lab topics' offsets took longer than ${ms} ms; raise LAB_KAFKA_OFFSETS_TIMEOUT_MS or check the brokers (chaos status)`,
      { retriable: true },
    );
  }
}

interface Clients {
  admin: Admin;
  committed: ClusterLike & { findTopicPartitionMetadata(topic: string): { partitionId: number }[] };
  uncommitted: ClusterLike;
  targets: Set<string>;
}

/**
 * Log start, LSO and HW of every partition of the lab's topics, read at scrape time. The clients stay connected
 * between scrapes (a scrape is then four ListOffsets per broker, more while transactions commit, and one Metadata),
 * and are rebuilt after any error or when a topic they track is deleted — kafkajs keeps refreshing metadata for
 * every topic it ever targeted.
 */
export class OffsetsCollector {
  private clients?: Clients;
  private inflight?: Promise<Snapshot>;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: { topicPattern: RegExp; maxTopics: number; timeoutMs: number },
  ) {}

  /** One snapshot, bounded by `timeoutMs`; concurrent scrapes share the one in flight. */
  collect(): Promise<Snapshot> {
    this.inflight ??= this.bounded().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private async bounded(): Promise<Snapshot> {
    let timer: NodeJS.Timeout | undefined;
    const work = this.read();
    const timeout = new Promise<never>(
      (_, reject) =>
        (timer = setTimeout(
          () => reject(new CollectTimeoutError(this.opts.timeoutMs)),
          this.opts.timeoutMs,
        )),
    );
    try {
      return await Promise.race([work, timeout]);
    } catch (e) {
      work.catch(() => {}); // a late failure of the abandoned read must not crash the process
      await this.reset();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  private async read(): Promise<Snapshot> {
    const cl = await this.connect();
    const all = (await cl.admin.listTopics()).filter((t) => this.opts.topicPattern.test(t)).sort();
    const topics = all.slice(0, this.opts.maxTopics);
    if ([...cl.targets].some((t) => !topics.includes(t))) {
      // A tracked topic is gone (or fell over the cap): start over with fresh clients next time.
      await this.reset();
      return this.read();
    }
    const fresh = topics.filter((t) => !cl.targets.has(t));
    if (fresh.length) {
      await Promise.all([
        cl.committed.addMultipleTargetTopics(fresh),
        cl.uncommitted.addMultipleTargetTopics(fresh),
      ]);
      for (const t of fresh) cl.targets.add(t);
    }
    if (!topics.length) return { partitions: [], dropped: all.length - topics.length };
    const request = (fromBeginning: boolean) =>
      topics.map((topic) => ({
        topic,
        fromBeginning,
        partitions: cl.committed
          .findTopicPartitionMetadata(topic)
          .map((p) => ({ partition: p.partitionId })),
      }));
    type Offsets = Map<string, bigint>;
    const index = (res: Awaited<ReturnType<ClusterLike['fetchTopicsOffset']>>): Offsets =>
      new Map(
        res.flatMap((t) =>
          t.partitions.map((p) => [`${t.topic}/${p.partition}`, BigInt(p.offset)] as const),
        ),
      );
    const {
      hw: h,
      between: [s, l],
    } = await readBetweenHws(
      async () => index(await cl.uncommitted.fetchTopicsOffset(request(false))),
      async () =>
        (
          await Promise.all([
            cl.committed.fetchTopicsOffset(request(true)),
            cl.committed.fetchTopicsOffset(request(false)),
          ])
        ).map(index),
    );
    const partitions: PartitionSnapshot[] = [];
    for (const [key, hw] of h) {
      const cut = key.lastIndexOf('/');
      partitions.push({
        topic: key.slice(0, cut),
        partition: Number(key.slice(cut + 1)),
        logStart: s.get(key) ?? 0n,
        lso: atMost(l.get(key) ?? hw, hw),
        hw,
      });
    }
    return { partitions, dropped: all.length - topics.length };
  }

  private async connect(): Promise<Clients> {
    if (this.clients) return this.clients;
    const admin = this.kafka.admin();
    const committed = isolationCluster(this.kafka, READ_COMMITTED) as Clients['committed'];
    const uncommitted = isolationCluster(this.kafka, READ_UNCOMMITTED);
    try {
      await Promise.all([admin.connect(), committed.connect(), uncommitted.connect()]);
    } catch (e) {
      await Promise.all(
        [admin.disconnect(), committed.disconnect(), uncommitted.disconnect()].map((p) =>
          bestEffort(p, 'disconnecting a client after a failed connect'),
        ),
      );
      throw e;
    }
    this.clients = { admin, committed, uncommitted, targets: new Set() };
    return this.clients;
  }

  private async reset(): Promise<void> {
    const cl = this.clients;
    this.clients = undefined;
    if (cl)
      await Promise.all(
        [cl.admin.disconnect(), cl.committed.disconnect(), cl.uncommitted.disconnect()].map((p) =>
          bestEffort(p, 'disconnecting the exporter clients'),
        ),
      );
  }
}
