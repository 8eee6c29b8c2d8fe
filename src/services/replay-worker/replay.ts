import { randomUUID } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import { z } from 'zod';
import type { LabConfig } from '../../lib/config';
import { LabError } from '../../lib/errors';
import { dlqTopic } from '../../lib/events';
import type { Failpoints } from '../../lib/failpoints';
import { labKafka } from '../../lib/kafka';
import { readTopic, type TopicRecord } from '../../lib/topics';
import { sleep } from '../../lib/wait';
import { DLQ_HEADERS } from '../consumer/consumer';

/** Offsets are per partition: fromOffset/toOffset apply to each partition (or only `partition` when given). */
export const ReplayOptionsSchema = z.object({
  topic: z.string().min(1),
  dryRun: z.boolean().default(true),
  partition: z.number().int().min(0).optional(),
  fromOffset: z.coerce.number().int().min(0).optional(),
  toOffset: z.coerce.number().int().min(0).optional(),
  fromTimestamp: z.union([z.number(), z.string()]).optional(),
  toTimestamp: z.union([z.number(), z.string()]).optional(),
  /** messages per second; 0 = unlimited */
  maxRate: z.number().min(0).default(100),
});
export type ReplayOptions = z.input<typeof ReplayOptionsSchema>;

export interface ReplayItem {
  partition: number;
  offset: string;
  eventId: string | null;
  targetTopic: string;
  error: string | null;
}
export interface ReplayResult {
  dryRun: boolean;
  dlqTopic: string;
  inDlq: number;
  selected: number;
  replayed: number;
  items: ReplayItem[];
}

const toMs = (t: number | string | undefined, name: string) => {
  if (t === undefined) return undefined;
  const ms = typeof t === 'number' ? t : /^\d+$/.test(t) ? Number(t) : Date.parse(t);
  if (Number.isNaN(ms))
    throw new LabError(
      `${name}=${t} is not a timestamp; give epoch ms or an ISO date like 2026-01-01T00:00:00Z`,
    );
  return ms;
};

function select(records: TopicRecord[], o: z.infer<typeof ReplayOptionsSchema>): TopicRecord[] {
  const from = toMs(o.fromTimestamp, 'fromTimestamp');
  const to = toMs(o.toTimestamp, 'toTimestamp');
  return records.filter((r) => {
    const off = Number(r.offset);
    const ts = Number(r.timestamp);
    return (
      (o.partition === undefined || r.partition === o.partition) &&
      (o.fromOffset === undefined || off >= o.fromOffset) &&
      (o.toOffset === undefined || off <= o.toOffset) &&
      (from === undefined || ts >= from) &&
      (to === undefined || ts <= to)
    );
  });
}

/**
 * Re-publishes DLQ records to their original topic with the same key, value and event-id header, so an idempotent
 * consumer skips what it already applied. Dry run lists what would be replayed and publishes nothing.
 */
/** The DLQ replay of `topic` as a run's port offers it (the engine's and `chaos inject`'s): unthrottled, the counts. */
export function topicReplay(lab: Pick<LabConfig, 'host' | 'ports' | 'brokerCount'>, topic: string) {
  return async (
    dryRun: boolean,
  ): Promise<{ inDlq: number; selected: number; replayed: number }> => {
    const r = await replayDlq(lab, { topic, dryRun, maxRate: 0 });
    return { inDlq: r.inDlq, selected: r.selected, replayed: r.replayed };
  };
}

export async function replayDlq(
  lab: Pick<LabConfig, 'host' | 'ports' | 'brokerCount'>,
  options: ReplayOptions,
  failpoints?: Failpoints,
): Promise<ReplayResult> {
  const o = ReplayOptionsSchema.parse(options);
  const dlq = dlqTopic(o.topic);
  const all = await readTopic(lab, dlq);
  const chosen = select(all, o);
  const items: ReplayItem[] = chosen.map((r) => ({
    partition: r.partition,
    offset: r.offset,
    eventId: r.headers['dedup-key'] ?? r.headers['event-id'] ?? null,
    targetTopic: r.headers['original-topic'] ?? o.topic,
    error: r.headers.error ?? null,
  }));
  const result: ReplayResult = {
    dryRun: o.dryRun,
    dlqTopic: dlq,
    inDlq: all.length,
    selected: chosen.length,
    replayed: 0,
    items,
  };
  if (o.dryRun || chosen.length === 0) return result;

  const producer = labKafka(lab, 'replay-worker').producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const replayId = randomUUID();
  try {
    for (let i = 0; i < chosen.length; i++) {
      const r = chosen[i];
      const t0 = Date.now();
      // The DLQ bookkeeping headers would make the record look like a failure again; keep the event's own.
      const headers: IHeaders = Object.fromEntries(
        Object.entries(r.headers).filter(([k]) => !(DLQ_HEADERS as readonly string[]).includes(k)),
      );
      headers['replayed-from'] = `${dlq}/${r.partition}/${r.offset}`;
      headers['replay-id'] = replayId;
      await failpoints?.hit('replay.before-publish');
      // Back to the partition it failed on, so it lands behind the same key's other events as before.
      const partition = /^\d+$/.test(r.headers['original-partition'] ?? '')
        ? Number(r.headers['original-partition'])
        : undefined;
      await producer.send({
        topic: items[i].targetTopic,
        acks: -1,
        messages: [{ key: r.key, value: r.value, headers, partition }],
      });
      result.replayed++;
      if (o.maxRate > 0) await sleep(Math.max(0, 1000 / o.maxRate - (Date.now() - t0)));
    }
  } finally {
    await producer.disconnect();
  }
  return result;
}
