import { labKafka } from '../../../lib/kafka';
import { sleep, waitFor } from '../../../lib/wait';
import type { Admin } from 'kafkajs';
import { mustRead, type WorkloadContext } from '../api';
import {
  createCellTopics,
  LeaderFaults,
  partitionStates,
  replicationBarrier,
  waitStates,
  type PartitionState,
} from './cluster';
import { cellId, cellLabel, type Cell, type FaultKind, type Size } from './params';
import { CellProducer } from './producer';
import { auditCell, readCells, type CellAudit } from './readback';

export interface CellResult {
  fault: FaultKind;
  cell: Cell;
  label: string;
  topic: string;
  leaderBefore: number;
  /** the ISR the controller had when the fault struck (for kills: just before the kill) */
  isrAtFault: number[];
  /** the partition's leader `failoverMs` after the fault (-1: offline) */
  leaderAfter: number;
  /** the new leader was not in the ISR at the fault: an unclean election */
  uncleanElection: boolean;
  audit: CellAudit;
  /** why writes failed, by error type */
  errors: Record<string, number>;
}

type Ctx = Pick<WorkloadContext<unknown>, 'c' | 'topic' | 'note' | 'stepsAt' | 'fire' | 'prom'>;

/**
 * One fault against every cell at once: topics led by `replicas[0]`, one producer per cell, the fault, producing on
 * through the failover, then recovery (toxic removed, broker restarted, ISR whole again) and the read-back audit.
 */
export async function runPhase(
  ctx: Ctx,
  fault: FaultKind,
  size: Size,
  replicas: number[],
  t0: number,
): Promise<CellResult[]> {
  const { c, note } = ctx;
  const leader = replicas[0];
  const cells = size.cells.map((cell) => ({
    cell,
    topic: `${ctx.topic}.${fault}.${cellId(cell)}`,
  }));
  const topics = cells.map((x) => x.topic);
  const admin = labKafka(c, 'e009-admin').admin();
  await admin.connect();
  const faults = new LeaderFaults(c, ctx, leader);
  const producers = cells.map(
    ({ cell, topic }) =>
      new CellProducer(c, topic, {
        acks: cell.acks,
        ratePerSec: size.ratePerSec,
        ackTimeoutMs: size.ackTimeoutMs,
        retries: size.retries,
        t0,
        label: cellId(cell),
      }),
  );
  let isrAtFault = new Map<string, PartitionState>();
  let after = new Map<string, PartitionState>();
  try {
    await createCellTopics(admin, cells, replicas);
    await waitStates(
      admin,
      topics,
      `cell topics led by kafka-${leader} with a full ISR`,
      (s) => s.leader === leader && s.isr.length === 3,
      60_000,
    );
    note(
      `${fault}: ${cells.length} cell topics on replicas [${replicas.join(',')}], leader kafka-${leader}; producing at ${size.ratePerSec}/s per cell`,
    );
    await Promise.all(producers.map((p) => p.start()));
    await sleep(size.warmupMs);
    // Whatever was written so far is on all three replicas before the fault: only the fault's window can lose.
    await replicationBarrier(c, topics);
    const refusalsBefore = await refusalCount(ctx, leader);
    const beforeKill = () => refusalsScraped(ctx, leader, producers, refusalsBefore);
    isrAtFault = await inject(ctx, fault, size, faults, admin, topics, beforeKill);
    const tf = Date.now();
    after = await watchFailover(
      admin,
      topics,
      leader,
      size.failoverMs,
      fault !== 'leader-isolated' && faults.killApplied,
    );
    note(
      `${fault}: ${((Date.now() - tf) / 1000).toFixed(1)} s after the fault, leaders ${[...new Set([...after.values()].map((s) => (s.leader < 0 ? 'offline' : s.leader)))].join('/')}`,
    );
  } finally {
    await Promise.all(producers.map((p) => p.stop()));
    const tr = Date.now();
    await faults.heal();
    note(
      `${fault}: producers stopped; recovered in ${((Date.now() - tr) / 1000).toFixed(1)} s (replication proxy back, kafka-${leader} running)`,
    );
  }
  try {
    await waitStates(
      admin,
      topics,
      'every cell topic back to a full ISR',
      (s) => s.leader >= 0 && s.isr.length === 3,
      120_000,
    );
  } finally {
    await admin.disconnect();
  }
  return cellResults(
    fault,
    leader,
    cells,
    producers,
    await readCells(c, topics),
    isrAtFault,
    after,
  );
}

/** Each cell's outcome: its writes audited against what the topic holds, and what the fault did to its leader. */
function cellResults(
  fault: FaultKind,
  leader: number,
  cells: { cell: Cell; topic: string }[],
  producers: CellProducer[],
  found: Awaited<ReturnType<typeof readCells>>,
  isrAtFault: Map<string, PartitionState>,
  after: Map<string, PartitionState>,
): CellResult[] {
  return cells.map(({ cell, topic }, i) => {
    const writes = producers[i].writes;
    const errors: Record<string, number> = {};
    for (const w of writes) if (w.error) errors[w.error] = (errors[w.error] ?? 0) + 1;
    const isr = isrAtFault.get(topic)?.isr ?? [];
    const leaderAfter = after.get(topic)?.leader ?? -1;
    return {
      fault,
      cell,
      label: cellLabel(cell),
      topic,
      leaderBefore: leader,
      isrAtFault: isr,
      leaderAfter,
      uncleanElection: leaderAfter >= 0 && leaderAfter !== leader && !isr.includes(leaderAfter),
      audit: auditCell(writes, found.get(topic) ?? []),
      errors,
    };
  });
}

/**
 * Polls the leaders while producing goes on: for `ms`, and (after a kill) until no topic names the dead broker as
 * leader any more — on a loaded box the controller may take longer than the session timeout to fence it — bounded
 * by another 60 s. Per topic: the first leader other than the old one (the failover's election), else the leader
 * at the end (-1 while the partition is offline).
 */
async function watchFailover(
  admin: Admin,
  topics: string[],
  oldLeader: number,
  ms: number,
  killed: boolean,
): Promise<Map<string, PartitionState>> {
  const elected = new Map<string, PartitionState>();
  let last = new Map<string, PartitionState>();
  const minEnd = Date.now() + ms;
  const maxEnd = minEnd + (killed ? 60_000 : 0);
  for (;;) {
    last = await partitionStates(admin, topics).catch(() => last); // a poll: the next one asks again, bounded by maxEnd
    for (const [t, s] of last)
      if (s.leader >= 0 && s.leader !== oldLeader && !elected.has(t)) elected.set(t, s);
    const fencedEverywhere = topics.every((t) => (last.get(t)?.leader ?? oldLeader) !== oldLeader);
    if (Date.now() >= maxEnd || (Date.now() >= minEnd && (!killed || fencedEverywhere))) break;
    await sleep(1000);
  }
  return new Map(topics.map((t) => [t, elected.get(t) ?? last.get(t) ?? { leader: -1, isr: [] }]));
}

/** Applies the phase's fault; returns the partitions' states at the moment it struck. */
async function inject(
  ctx: Ctx,
  fault: FaultKind,
  size: Size,
  faults: LeaderFaults,
  admin: Admin,
  topics: string[],
  beforeKill: () => Promise<void>,
) {
  const { note } = ctx;
  const L = faults.leader;
  const kill = async () => {
    await beforeKill();
    const states = await partitionStates(admin, topics);
    await faults.kill();
    note(`${fault}: kill -9 kafka-${L} (ISR then: ${describeIsr(states)})`);
    return states;
  };
  if (fault === 'leader-kill') return kill();
  await faults.cut();
  note(
    `${fault}: kafka-${L}-internal down: followers cannot fetch from the leader; clients still reach it`,
  );
  if (fault === 'lagging-followers-kill') {
    await sleep(size.lagMs);
    return kill();
  }
  // no cut applied (a counterfactual run): no ISR can shrink, nothing to wait for
  const shrunk = !faults.cutApplied
    ? undefined
    : await waitStates(
        admin,
        topics,
        `ISR shrunk to kafka-${L}`,
        (s) => s.isr.length === 1,
        size.isolateMs,
      ).catch(() => undefined); // not shrunk in time: said in the note below and in the cell's figures
  note(
    shrunk
      ? `${fault}: the leader shrank every ISR to [${L}]`
      : `${fault}: ISR not shrunk to [${L}] within ${size.isolateMs} ms`,
  );
  if (fault === 'isr-shrunk-kill') {
    await sleep(size.shrunkHoldMs);
    return kill();
  }
  const states = await partitionStates(admin, topics);
  await faults.uncut();
  note(`${fault}: replication proxy back after the isolation (ISR then: ${describeIsr(states)})`);
  return states;
}

const REFUSALS = (broker: number) =>
  `sum(kafka_network_requestmetrics_errors_total{broker="${broker}",request="Produce",error="NOT_ENOUGH_REPLICAS"})`;

/** The leader's count of NOT_ENOUGH_REPLICAS answers as Prometheus has it (0 before its first refusal: no series). */
async function refusalCount(ctx: Ctx, broker: number): Promise<number> {
  const what = `kafka-${broker}'s NOT_ENOUGH_REPLICAS count (Prometheus)`;
  return (await mustRead(what, ctx.prom.scalar(REFUSALS(broker)))) ?? 0;
}

/**
 * The leader counts its NOT_ENOUGH_REPLICAS answers in its JVM, which the kill ends; Kafka brokers are scraped every
 * 5 s. When producers were refused, the kill waits (bounded) until Prometheus holds the rise, so the brokers' probe
 * reads the refusals instead of no data (seen once: a meter born on the first refusal died unscraped with its JVM).
 */
async function refusalsScraped(
  ctx: Ctx,
  broker: number,
  producers: CellProducer[],
  before: number,
): Promise<void> {
  if (!producers.some((p) => p.writes.some((w) => w.error === 'NOT_ENOUGH_REPLICAS'))) return;
  await waitFor(
    `Prometheus to scrape kafka-${broker}'s NOT_ENOUGH_REPLICAS count before the kill ends its JVM`,
    async () => (await refusalCount(ctx, broker)) > before,
    { timeoutMs: 15_000, intervalMs: 500 },
  );
}

function describeIsr(states: Map<string, PartitionState>): string {
  const distinct = [...new Set([...states.values()].map((s) => `[${s.isr.join(',')}]`))];
  return distinct.join(' / ');
}
