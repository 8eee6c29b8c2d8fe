import type { RunResult } from '../../src/experiments/engine';
import { emptyFacts } from '../../src/experiments/facts';

/** One side of an E-002 pair as the engine returns it (a renderer's and pairOf's input, not a verdict of ours). */
export function sideRun(
  side: 'anti-pattern' | 'pattern',
  over: Partial<RunResult> = {},
): RunResult {
  return {
    id: 'E-002',
    side,
    title: `${side} side`,
    runId: `e-002-s42-${side}`,
    seed: 42,
    expected: side === 'pattern' ? 'controlled' : 'reproduced',
    outcome: 'completed',
    startedAt: new Date(0).toISOString(),
    durationSec: 20,
    topic: 't',
    consumerGroup: 'g',
    workloadKind: 'commands',
    workload: { sent: 60, ok: 60, failed: 0, retried: 0, latenciesMs: [], failures: [] },
    facts: { ...emptyFacts(), commandsSent: 60, crashes: 3, failpointsFired: 3 },
    probes: [],
    alerts: [],
    audit: null,
    timeline: [
      { tMs: 10, what: 'crash after commit, before produce: armed crash', kind: 'fault' },
      { tMs: 900, what: 'command-service died (crash #1); restarting it' },
    ],
    rollbacks: [],
    window: { startSec: 0, endSec: 20 },
    ...over,
  };
}
