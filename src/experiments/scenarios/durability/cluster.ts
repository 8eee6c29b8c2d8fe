import type { Admin } from 'kafkajs';
import { signalComponent } from '../../../chaos/process-faults';
import { addToxic, removeToxic } from '../../../chaos/toxics';
import type { LabConfig } from '../../../lib/config';
import { LabError } from '../../../lib/errors';
import { labKafka } from '../../../lib/kafka';
import { sleep, waitFor } from '../../../lib/wait';
import { silentProgress } from '../../../runtime/progress';
import { up } from '../../../runtime/stack';
import { cellLabel, type Cell } from './params';

export interface PartitionState {
  leader: number;
  isr: number[];
}

/**
 * One topic per cell, one partition on replicas [leader, …followers]: the first replica is the preferred leader,
 * so every cell of a phase is led by the same broker and one kill hits them all at once.
 */
export async function createCellTopics(admin: Admin, cells: { topic: string; cell: Cell }[], replicas: number[]): Promise<void> {
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
      const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
      if (cells.every(({ topic }) => existing.has(topic))) break;
      if (attempt >= 4) throw new LabError(`cannot create E-009's cell topics (${cells.map((x) => cellLabel(x.cell)).join('; ')}): ${(e as Error).message}; is the cluster healthy (chaos status)?`, { cause: e, retriable: true });
      await sleep(1000 * attempt);
    }
  }
}

/** Leader and ISR of partition 0 of each topic; an offline partition (kafkajs throws for it) reads as leader -1. */
export async function partitionStates(admin: Admin, topics: string[]): Promise<Map<string, PartitionState>> {
  try {
    const md = await admin.fetchTopicMetadata({ topics });
    return new Map(md.topics.map((t) => [t.name, { leader: t.partitions[0]?.leader ?? -1, isr: [...(t.partitions[0]?.isr ?? [])].sort() }]));
  } catch {
    const out = new Map<string, PartitionState>();
    for (const t of topics) {
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
    await producer.sendBatch({ acks: -1, timeout: 30_000, topicMessages: topics.map((topic) => ({ topic, messages: [{ key: 'barrier', value: 'replicated up to here' }] })) });
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

/** Waits until every topic satisfies `ok`; returns the states seen last. */
export async function waitStates(admin: Admin, topics: string[], what: string, ok: (s: PartitionState) => boolean, timeoutMs: number) {
  return waitFor(what, async () => {
    const states = await partitionStates(admin, topics);
    return topics.every((t) => states.get(t) && ok(states.get(t)!)) ? states : undefined;
  }, { timeoutMs, intervalMs: 500 });
}

/**
 * The faults of a phase, each with its undo. `cut` disables the leader's replication proxy (kafka-N-internal):
 * followers can no longer fetch from it, while clients (kafka-N) and the KRaft controller link (not proxied) still
 * reach it. `heal` always runs: toxic removed, a killed broker restarted, the stack healthy again.
 */
export class LeaderFaults {
  private cutOn = false;
  private killed = false;
  constructor(private readonly c: LabConfig, readonly leader: number) {}

  private get proxy() {
    return `kafka-${this.leader}-internal`;
  }

  async cut(): Promise<void> {
    await addToxic(this.c, { proxy: this.proxy, type: 'down', name: 'e009_replication_cut' });
    this.cutOn = true;
  }

  async uncut(): Promise<void> {
    if (!this.cutOn) return;
    await removeToxic(this.c, this.proxy, 'e009_replication_cut', 'down');
    this.cutOn = false;
  }

  kill(): void {
    signalComponent(this.c, `kafka-${this.leader}`, 'kill');
    this.killed = true;
  }

  /** Undo everything; `up` restarts the killed broker and returns once the cluster is in sync again. */
  async heal(): Promise<void> {
    await this.uncut().catch(() => {});
    if (!this.killed) return;
    // A JVM restart on a crowded 2-core box can miss the start timeout once; `up` then stops it, and we try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await up(this.c, silentProgress);
        break;
      } catch (e) {
        if (attempt >= 3) throw new LabError(`kafka-${this.leader} did not come back after E-009 killed it (${(e as Error).message}); run \`chaos up\``, { cause: e, retriable: true });
      }
    }
    this.killed = false;
  }
}
