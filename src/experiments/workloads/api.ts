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
export type { Step } from '../schema';
export { prng } from './prng';
export { percentile } from '../../lib/percentile';
