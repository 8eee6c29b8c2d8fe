/**
 * The workload contract: everything a workload imports from outside its own folder family (besides src/lib, the
 * services' config types and node modules). The engine implements it; a workload sees nothing else of the engine.
 */
export {
  finished,
  type FiredStep,
  type Plot,
  type WorkloadContext,
  type WorkloadKind,
  type WorkloadOutcome,
  type WorkloadRun,
} from './types';
export { Interrupted } from '../interrupted';
export { mustRead } from '../inconclusive';
export type { AuditIds, AuditResult } from '../audit';
export { emptyStats, type WorkloadStats } from '../result';
export type { Experiment, Step } from '../schema';
export { EXP_CACHE_PREFIX } from '../watcher';
export type { RunPort } from '../../runtime/run-port';
export { prng } from './prng';
export { percentile } from '../../lib/percentile';
