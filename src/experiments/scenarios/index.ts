import { stampedeScenario } from './stampede';
import { durabilityMatrix } from './durability';
import { transactionsScenario } from './transactions';
import type { Scenario } from './types';

/**
 * Every scenario kind an experiment file may name in `scenario.kind`. One line per scenario; each lives in its
 * own module next to this one.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each scenario has its own params type
export const SCENARIOS: Record<string, Scenario<any>> = {
  [stampedeScenario.kind]: stampedeScenario,
  [durabilityMatrix.kind]: durabilityMatrix,
  transactions: transactionsScenario,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function scenarioFor(kind: string): Scenario<any> | undefined {
  return Object.prototype.hasOwnProperty.call(SCENARIOS, kind) ? SCENARIOS[kind] : undefined;
}
