import type { Kafka } from 'kafkajs';
import { LabError } from './errors';

/** Isolation levels of the ListOffsets request (Kafka protocol). */
export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;

/** The part of kafkajs' (internal) Cluster the lab uses. */
export interface ClusterLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  fetchTopicsOffset(
    topics: { topic: string; partitions: { partition: number }[]; fromBeginning?: boolean }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/**
 * A kafkajs Cluster whose ListOffsets requests carry `isolationLevel`: READ_UNCOMMITTED → latest = the high
 * watermark, READ_COMMITTED → latest = the last stable offset. kafkajs' public admin.fetchTopicOffsets always asks
 * READ_COMMITTED (so its "high" is the LSO) and its public API has no way to ask for the HW, so we build the
 * cluster through the client's own (symbol-keyed) factory. Checked against kcat. Not connected yet.
 */
export function isolationCluster(kafka: Kafka, isolationLevel: number): ClusterLike {
  const sym = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  );
  if (!sym)
    throw new LabError(
      'this kafkajs version does not expose its cluster factory; pin kafkajs 2.2.4 (package.json)',
    );
  const create = (kafka as unknown as Record<symbol, (o: object) => ClusterLike>)[sym];
  return create({ allowAutoTopicCreation: false, isolationLevel });
}

/** Latest offsets of every partition as a client with `isolationLevel` sees them (HW or LSO, see isolationCluster). */
export async function latestOffsets(
  kafka: Kafka,
  topic: string,
  partitions: number[],
  isolationLevel: number,
): Promise<Map<number, bigint>> {
  const cluster = isolationCluster(kafka, isolationLevel);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    const res = await cluster.fetchTopicsOffset([
      { topic, partitions: partitions.map((partition) => ({ partition })), fromBeginning: false },
    ]);
    return new Map(res[0].partitions.map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await cluster.disconnect();
  }
}

/**
 * High watermarks and whatever `readBetween` reads (the LSOs), as a pair that belongs together. HW and LSO come from
 * two ListOffsets requests, so a pair read at once can straddle a commit: CI once saw HW − LSO = 5 for a 4-record
 * transaction (the marker already in the HW, not yet in the LSO). Both only grow, so an LSO read between two equal
 * HW readings belongs to that HW. Retried while the HW moves; after `attempts`, callers clamp LSO ≤ HW (lower bound).
 */
export async function readBetweenHws<K, T>(
  readHw: () => Promise<Map<K, bigint>>,
  readBetween: () => Promise<T>,
  attempts = 3,
): Promise<{ hw: Map<K, bigint>; between: T }> {
  let hw = await readHw();
  for (let attempt = 1; ; attempt++) {
    const between = await readBetween();
    if (attempt >= attempts) return { hw, between };
    const after = await readHw();
    if ([...hw].every(([k, v]) => after.get(k) === v)) return { hw, between };
    hw = after;
  }
}

/** An LSO never exceeds its HW: a later LSO read past an earlier HW reading is reported as that HW. */
export const atMost = (lso: bigint, hw: bigint): bigint => (lso > hw ? hw : lso);

export interface PartitionOffsets {
  partition: number;
  leader: number;
  isr: number[];
  logStart: bigint;
  lso: bigint;
  hw: bigint;
  /** per-replica log end offsets from the brokers' JMX metrics (Prometheus), when available */
  replicaLeo: Record<string, number>;
}

/** Log start, LSO and HW of each partition (LEO per replica is added by callers that have Prometheus). */
export async function topicOffsets(kafka: Kafka, topic: string): Promise<PartitionOffsets[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    const parts = md.topics[0].partitions;
    const ids = parts.map((p) => p.partitionId);
    // READ_COMMITTED: high = LSO, low = log start
    const { hw, between: committed } = await readBetweenHws(
      () => latestOffsets(kafka, topic, ids, READ_UNCOMMITTED),
      () => admin.fetchTopicOffsets(topic),
    );
    return parts
      .map((p) => {
        const c = committed.find((x) => x.partition === p.partitionId);
        const h = hw.get(p.partitionId) ?? 0n;
        return {
          partition: p.partitionId,
          leader: p.leader,
          isr: p.isr,
          logStart: BigInt(c?.low ?? 0),
          lso: atMost(BigInt(c?.high ?? 0), h),
          hw: h,
          replicaLeo: {},
        };
      })
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}
