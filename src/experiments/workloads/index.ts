import { z } from 'zod';
import { clusterFailover } from './cluster-failover';
import { clusterMultiKey } from './cluster-multikey';
import { clusterReshard } from './cluster-reshard';
import { commandStream } from './commands';
import { durabilityMatrix } from './durability';
import { keyOrderScenario } from './key-order';
import { stampedeScenario } from './stampede';
import { staleCacheScenario } from './stale-cache';
import { transactionsScenario } from './transactions';
import type { WorkloadKind } from './types';

/**
 * Every workload kind an experiment file may name in `workload.kind`: one line per kind, each in its own module
 * next to this one. Adding one: a module exporting a WorkloadKind, and its line here.
 */
export const WORKLOAD_KINDS = [
  commandStream,
  transactionsScenario,
  stampedeScenario,
  durabilityMatrix,
  staleCacheScenario,
  keyOrderScenario,
  clusterMultiKey,
  clusterFailover,
  clusterReshard,
] as const;

export type AnyWorkloadKind = WorkloadKind<z.AnyZodObject>;

export function workloadKind(kind: string): AnyWorkloadKind | undefined {
  return (WORKLOAD_KINDS as readonly AnyWorkloadKind[]).find((k) => k.kind === kind);
}

const members = WORKLOAD_KINDS.map((k) =>
  (k.params as z.AnyZodObject).extend({ kind: z.literal(k.kind) }),
);

/** `workload:` in the file: one discriminated union by `kind`, each member the kind's own strict parameters. */
export const WorkloadSchema = z.discriminatedUnion(
  'kind',
  members as [(typeof members)[number], ...(typeof members)[number][]],
) as unknown as z.ZodType<WorkloadBlock, z.ZodTypeDef, unknown>;

/** A validated `workload:` block: its kind, and that kind's parameters (re-parsed by the kind when it runs). */
export type WorkloadBlock = { kind: string } & Record<string, unknown>;

/** The kind's parameters out of the validated `workload:` block. */
export function workloadParams(workload: WorkloadBlock): Record<string, unknown> {
  return Object.fromEntries(Object.entries(workload).filter(([key]) => key !== 'kind'));
}
