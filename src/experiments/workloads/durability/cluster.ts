import { bestEffort } from '../../../lib/best-effort';
import type { Admin } from 'kafkajs';
import type { LabConfig } from '../../../lib/config';
import { LabError } from '../../../lib/errors';
import { labKafka } from '../../../lib/kafka';
import { sleep, waitFor } from '../../../lib/wait';
import type { FiredStep, Step, WorkloadContext } from '../api';
import { cellLabel, type Cell } from './params';

export interface PartitionState {
  leader: number;
  isr: number[];
}

/**
 * One topic per cell, one partition on replicas [leader, …followers]: the first replica is the preferred leader,
 * so every cell of a phase is led by the same broker and one kill hits them all at once.
 */
export async function createCellTopics(
  admin: Admin,
  cells: { topic: string; cell: Cell }[],
  replicas: number[],
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: cells.map(({ topic, cell }) => ({
          topic,
          replicaAssignment: [{ partition: 0, replicas }],
          configEntries: [
            { name: 'min.insync.replicas', value: String(cell.minInsync) },
            { name: 'unclean.leader.election.enable', value: String(cell.unclean) },
          ],
        })),
      });
      break;
    } catch (e) {
      // a list that fails reads as "not created yet": the next attempt (bounded) creates them or throws
      const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
      if (cells.every(({ topic }) => existing.has(topic))) break;
      if (attempt >= 4)
        throw new LabError(
          `cannot create E-009's cell topics (${cells.map((x) => cellLabel(x.cell)).join('; ')}): ${(e as Error).message}; is the cluster healthy (chaos status)?`,
          { cause: e, retriable: true },
        );
      await sleep(1000 * attempt);
    }
  }
}

/** Leader and ISR of partition 0 of each topic; an offline partition (kafkajs throws for it) reads as leader -1. */
export async function partitionStates(
  admin: Admin,
  topics: string[],
): Promise<Map<string, PartitionState>> {
  try {
    const md = await admin.fetchTopicMetadata({ topics });
    return new Map(
      md.topics.map((t) => [
        t.name,
        { leader: t.partitions[0]?.leader ?? -1, isr: [...(t.partitions[0]?.isr ?? [])].sort() },
      ]),
    );
  } catch {
    const out = new Map<string, PartitionState>();
    for (const t of topics) {
      // a topic whose leader is unknown reads leader -1: the callers' bounded waits keep asking
      const md = await admin.fetchTopicMetadata({ topics: [t] }).catch(() => undefined);
      const p = md?.topics[0]?.partitions[0];
      out.set(t, { leader: p?.leader ?? -1, isr: [...(p?.isr ?? [])].sort() });
    }
    return out;
  }
}

/** A write with acks=all to every topic: once acknowledged, everything before it is on every ISR member. */
export async function replicationBarrier(c: LabConfig, topics: string[]): Promise<void> {
  const producer = labKafka(c, 'e009-barrier').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.sendBatch({
      acks: -1,
      timeout: 30_000,
      topicMessages: topics.map((topic) => ({
        topic,
        messages: [{ key: 'barrier', value: 'replicated up to here' }],
      })),
    });
  } finally {
    await bestEffort(producer.disconnect(), 'disconnecting the barrier producer');
  }
}

/** Waits until every topic satisfies `ok`; returns the states seen last. */
export async function waitStates(
  admin: Admin,
  topics: string[],
  what: string,
  ok: (s: PartitionState) => boolean,
  timeoutMs: number,
) {
  return waitFor(
    what,
    async () => {
      const states = await partitionStates(admin, topics);
      return topics.every((t) => {
        const state = states.get(t);
        return state !== undefined && ok(state);
      })
        ? states
        : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** The file's E-009 steps, fired at these moments and aimed at the phase's leader. */
export const DURABILITY_MOMENTS = ['cut-replication', 'kill-leader'] as const;

/**
 * The faults of a phase: the file's steps for each moment, fired through the engine and aimed at this phase's
 * leader. `cut-replication` takes the leader's replication proxy (kafka-N-internal) down: followers can no longer
 * fetch from it, while clients (kafka-N) and the KRaft controller link (not proxied) still reach it.
 * `kill-leader` SIGKILLs it. `heal` always runs: every fired step undone, the stack healthy again.
 */
export class LeaderFaults {
  private cutFired: FiredStep[] = [];
  private killFired: FiredStep[] = [];
  constructor(
    private readonly c: LabConfig,
    private readonly ctx: Pick<WorkloadContext<unknown>, 'stepsAt' | 'fire'>,
    readonly leader: number,
  ) {}

  private stepsAt(moment: (typeof DURABILITY_MOMENTS)[number]): Step[] {
    const steps = this.ctx.stepsAt(moment);
    if (!steps.length) throw new LabError(`E-009 needs a method step at { moment: ${moment} }`);
    return steps;
  }

  async cut(): Promise<void> {
    for (const step of this.stepsAt('cut-replication'))
      this.cutFired.push(await this.ctx.fire(step, { proxy: `kafka-${this.leader}-internal` }));
  }

  async uncut(): Promise<void> {
    for (let fired = this.cutFired.pop(); fired; fired = this.cutFired.pop()) await fired.undo();
  }

  async kill(): Promise<void> {
    for (const step of this.stepsAt('kill-leader'))
      this.killFired.push(await this.ctx.fire(step, { broker: this.leader }));
  }

  /** The kill really struck (a counterfactual run records its steps without applying them): a failover to wait for. */
  get killApplied(): boolean {
    return this.killFired.some((f) => f.applied);
  }

  /** The replication cut really struck: an ISR that can shrink. */
  get cutApplied(): boolean {
    return this.cutFired.some((f) => f.applied);
  }

  /** Undo everything, recorded by the engine: replication proxy back, a killed broker restarted (the cluster healthy). */
  async heal(): Promise<void> {
    await this.uncut();
    for (let fired = this.killFired.pop(); fired; fired = this.killFired.pop()) await fired.undo();
  }
}
