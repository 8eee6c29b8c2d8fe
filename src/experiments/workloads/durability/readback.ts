import type { LabConfig } from '../../../lib/config';
import { readToEnds } from '../../../lib/topics';
import type { Write } from './producer';

export interface Found {
  seq: number;
  offset: string;
}

/**
 * Every record of the cell topics, read with one read_committed consumer (kafkajs' default isolation) up to the
 * end offsets seen at the start, keyed by the producer's sequence number.
 */
export async function readCells(
  c: LabConfig,
  topics: string[],
  timeoutMs = 90_000,
): Promise<Map<string, Found[]>> {
  const out = new Map<string, Found[]>(topics.map((t) => [t, []]));
  await readToEnds(
    c,
    topics,
    ({ topic, message }) => {
      const seq = Number(message.key?.toString());
      if (Number.isInteger(seq)) out.get(topic)?.push({ seq, offset: message.offset });
    },
    { timeoutMs, clientId: 'e009-reader' },
  );
  return out;
}

export interface CellAudit {
  acked: number;
  /** acks=0 writes that left the client (no broker answered them) */
  sent: number;
  /** of those, how many are not in the log: what acks=0 gives up, never counted as `lost` (nothing was promised) */
  sentMissing: number;
  rejected: number;
  failed: number;
  /** acknowledged, and not in the log after failover and recovery */
  lost: { seq: number; ackedOffset: string | null }[];
  /** seqs present more than once (a producer retry of a write that had landed) */
  duplicated: number[];
  /** neither acknowledged nor sent (failed/rejected) but in the log anyway: not a loss, an indeterminate write that landed */
  unackedPresent: number;
  records: number;
}

/** Jepsen's question for one cell: which acknowledged writes are missing, which are there twice. */
export function auditCell(writes: Write[], found: Found[]): CellAudit {
  const count = new Map<number, number>();
  for (const f of found) count.set(f.seq, (count.get(f.seq) ?? 0) + 1);
  const acked = writes.filter((w) => w.outcome === 'acked');
  const sent = writes.filter((w) => w.outcome === 'sent');
  return {
    acked: acked.length,
    sent: sent.length,
    sentMissing: sent.filter((w) => !count.has(w.seq)).length,
    rejected: writes.filter((w) => w.outcome === 'rejected').length,
    failed: writes.filter((w) => w.outcome === 'failed').length,
    lost: acked
      .filter((w) => !count.has(w.seq))
      .map((w) => ({ seq: w.seq, ackedOffset: w.offset })),
    duplicated: [...count].filter(([, n]) => n > 1).map(([seq]) => seq),
    unackedPresent: writes.filter(
      (w) => (w.outcome === 'rejected' || w.outcome === 'failed') && count.has(w.seq),
    ).length,
    records: found.length,
  };
}
