import { ConfigError } from '../../../lib/errors';
import { z } from 'zod';

/**
 * E-009's matrix: producer `acks` × topic `min.insync.replicas` × topic `unclean.leader.election.enable`, each
 * cell a topic of its own (one partition, RF=3), all cells of a fault phase led by the same broker so that one
 * fault hits every cell at the same instant.
 */
export const Acks = z.union([z.literal(0), z.literal(1), z.literal('all')]);
export type Acks = z.infer<typeof Acks>;

export const CellSchema = z
  .object({
    acks: Acks,
    minInsync: z.union([z.literal(1), z.literal(2)]),
    unclean: z.boolean().default(false),
  })
  .strict();
export type Cell = z.infer<typeof CellSchema>;

/**
 * How the leader is hurt (each phase kills or isolates the leader of every cell topic once):
 * - leader-kill: kill -9 the leader while producing, nothing else.
 * - lagging-followers-kill: cut the leader's replication listener (its `kafka-N-internal` proxy) so followers stop
 *   fetching, keep producing for `lagMs` (< replica.lag.time.max.ms, so the ISR still lists the followers), then
 *   kill -9 the leader. The window in which acks=1 writes live on the leader alone is made real, not hoped for.
 * - isr-shrunk-kill: the same cut, held until the leader has shrunk the ISR to itself, then kill -9 the leader.
 *   Only an unclean election (or none) can follow: this is where `unclean.leader.election.enable` matters.
 * - leader-isolated: the same cut for `isolateMs`, then healed; no kill (the controller link is not proxied, so
 *   the isolated leader stays leader and the followers catch up afterwards).
 */
export const FAULT_KINDS = [
  'leader-kill',
  'lagging-followers-kill',
  'isr-shrunk-kill',
  'leader-isolated',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const Size = z
  .object({
    faults: z.array(z.enum(FAULT_KINDS)).min(1),
    cells: z.array(CellSchema).min(1).max(16),
    /** per cell; each cell's producer sends one record per request and waits for its answer */
    ratePerSec: z.number().positive().max(500),
    warmupMs: z.number().int().min(0).max(60_000),
    /** lagging-followers-kill: how long followers are cut off before the kill; keep it below replica.lag.time.max.ms (6 s) */
    lagMs: z.number().int().min(100).max(5_500),
    /** isr-shrunk-kill / leader-isolated: how long the cut may last at most (the ISR shrink is waited for) */
    isolateMs: z.number().int().min(1000).max(120_000),
    /** isr-shrunk-kill: producing goes on this long with the ISR shrunk to the leader before the kill, so acks=all +
     *  min.insync=2 writes meet NOT_ENOUGH_REPLICAS and Prometheus (JMX scraped every 5 s) sees the ISR of 1 */
    shrunkHoldMs: z.number().int().min(0).max(60_000).default(6000),
    /** producing goes on this long after the kill (or the heal), through the failover */
    failoverMs: z.number().int().min(1000).max(120_000),
    /** the producer's ack timeout (Produce request `timeout`) */
    ackTimeoutMs: z.number().int().min(100).max(30_000),
    /** the producer's own retries of a failed send (each retry of a write that did land is a duplicate) */
    retries: z.number().int().min(0).max(10),
  })
  .strict();
export type Size = z.infer<typeof Size>;

export const DurabilityParams = Size.extend({
  /**
   * One side of the pair: only the cell Kafka promises to keep (`safe`: acks=all + min.insync=2), or only the weaker
   * ones (`weaker`); default every cell of `cells`. Both sides meet the same faults at the same moments.
   */
  only: z.enum(['safe', 'weaker', 'every']).default('every'),
  /** `chaos exp run --full`: overrides of the CI-sized run (the whole matrix, more messages) */
  full: Size.partial().default({}),
}).strict();
export type DurabilityParams = z.infer<typeof DurabilityParams>;

/** The run's size: the CI one, or with `--full` its overrides applied; its cells those of the side (`only`). */
export function sizeFor(p: DurabilityParams, full: boolean): Size {
  const { full: overrides, only, ...base } = p;
  const size = full ? { ...base, ...overrides } : base;
  const cells = size.cells.filter((c) => keeps(only, c));
  if (!cells.length)
    throw new ConfigError(
      `durability-matrix: no cell of \`cells\` is ${only} (only: ${only}); add one, or change \`only\``,
    );
  return { ...size, cells };
}

const keeps = (only: DurabilityParams['only'], c: Cell) =>
  only === 'every' || isSafe(c) === (only === 'safe');

export const cellId = (c: Cell) => `a${c.acks}-m${c.minInsync}-u${c.unclean ? 1 : 0}`;
export const cellLabel = (c: Cell) =>
  `acks=${c.acks} min.insync=${c.minInsync} unclean=${c.unclean ? 'on' : 'off'}`;
export const ackValue = (a: Acks) => (a === 'all' ? -1 : a);

/** The cell that must never lose an acknowledged write under one failure. */
export const isSafe = (c: Cell) => c.acks === 'all' && c.minInsync === 2;
/** Cells Kafka does not promise to keep: a leader alone may acknowledge (acks 0/1, or acks=all with ISR = leader). */
export const isLossCandidate = (c: Cell) => c.acks !== 'all' || c.minInsync === 1;
