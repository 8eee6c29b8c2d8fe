// TEMPORARY shim over src/experiments/faults.ts until the registered fault kinds land (replaced wholesale).
import { applyFault as applyOld } from '../../experiments/faults';
import { FaultSchema as OldSchema, type Fault as OldFault } from '../../experiments/schema-faults';
import type { AppliedFault, FaultEnv } from './types';

export const FaultSchema = OldSchema;
export type Fault = OldFault;

export async function applyFault(env: FaultEnv, fault: Fault, step: { index: number; name: string }): Promise<AppliedFault> {
  const facts: AppliedFault['facts'] = {};
  if (fault.type === 'toxic') facts.toxicsAdded = 1;
  if (fault.type === 'broker' && fault.action === 'kill') facts.brokerKills = 1;
  if (fault.type === 'replay' && !fault.dryRun) facts.replays = fault.times;
  let rejected = false;
  const rb = await applyOld({ ...env, schemaRejected: () => void (rejected = true) } as never, fault, step.index);
  if (rejected) facts.schemaRejected = 1;
  return { description: fault.type, facts, rollback: rb ? { name: rb.name, run: rb.run, leftover: rb.name, fix: 'chaos heal' } : undefined };
}
