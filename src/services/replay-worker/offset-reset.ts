import { z } from 'zod';
import type { LabConfig } from '../../lib/config';
import { LabError } from '../../lib/errors';
import { labKafka } from '../../lib/kafka';

export class GroupNotEmptyError extends LabError {
  constructor(groupId: string, state: string, members: number) {
    super(
      `consumer group ${groupId} is ${state} with ${members} member(s): offsets can only be reset on an empty group; stop its consumers first (chaos services down --only consumer-service)`,
    );
  }
}

export const OffsetResetSchema = z.object({
  groupId: z.string().min(1),
  topic: z.string().min(1),
  to: z.enum(['earliest', 'latest', 'offset', 'timestamp']),
  /** for to=offset: the same offset for every partition (clamped to each partition's [low, high]) */
  offset: z.coerce.number().int().min(0).optional(),
  /** for to=timestamp: epoch ms; each partition goes to its first offset at or after it */
  timestamp: z.coerce.number().int().min(0).optional(),
  dryRun: z.boolean().default(true),
});
/** `to` is checked at run time (zod), so CLI flags and HTTP bodies can pass their plain strings. */
export type OffsetResetOptions = Omit<z.input<typeof OffsetResetSchema>, 'to'> & { to: string };

export interface OffsetResetResult {
  groupId: string;
  topic: string;
  dryRun: boolean;
  state: string;
  partitions: { partition: number; current: string; target: string }[];
}

/**
 * Moves a consumer group's committed offsets on one topic (dry run by default: shows current → target). Kafka
 * refuses this while the group has members, so we check first and say what to stop.
 */
export async function resetOffsets(
  lab: Pick<LabConfig, 'host' | 'ports' | 'brokerCount'>,
  options: OffsetResetOptions,
): Promise<OffsetResetResult> {
  const o = OffsetResetSchema.parse(options); // an unknown `to` fails here listing earliest, latest, offset, timestamp
  if (o.to === 'offset' && o.offset === undefined) throw new LabError('to=offset needs offset=<n>');
  if (o.to === 'timestamp' && o.timestamp === undefined)
    throw new LabError('to=timestamp needs timestamp=<epoch ms>');
  const admin = labKafka(lab, 'replay-worker-offsets').admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([o.groupId]);
    const g = groups[0];
    if (g && g.members.length > 0)
      throw new GroupNotEmptyError(o.groupId, g.state, g.members.length);
    const bounds = await admin.fetchTopicOffsets(o.topic);
    const [current] = await admin.fetchOffsets({ groupId: o.groupId, topics: [o.topic] });
    const byTs =
      o.to === 'timestamp'
        ? new Map(
            (await admin.fetchTopicOffsetsByTimestamp(o.topic, o.timestamp)).map((p) => [
              p.partition,
              p.offset,
            ]),
          )
        : undefined;
    const partitions = bounds
      .sort((a, b) => a.partition - b.partition)
      .map((b) => {
        const low = BigInt(b.low),
          high = BigInt(b.high);
        let target: bigint;
        if (o.to === 'earliest') target = low;
        else if (o.to === 'latest') target = high;
        else if (o.to === 'offset') {
          const wanted = BigInt(o.offset ?? 0);
          target = wanted < low ? low : wanted > high ? high : wanted;
        } else {
          const t = byTs?.get(b.partition);
          target = t === undefined || t === '-1' ? high : BigInt(t); // nothing at/after the timestamp: the end
        }
        const cur = current?.partitions.find((p) => p.partition === b.partition)?.offset ?? '-1';
        return { partition: b.partition, current: cur, target: target.toString() };
      });
    if (!o.dryRun)
      await admin.setOffsets({
        groupId: o.groupId,
        topic: o.topic,
        partitions: partitions.map((p) => ({ partition: p.partition, offset: p.target })),
      });
    return {
      groupId: o.groupId,
      topic: o.topic,
      dryRun: o.dryRun,
      state: g?.state ?? 'Dead',
      partitions,
    };
  } finally {
    await admin.disconnect();
  }
}
