import { loadConfig, type LabConfig } from '../../src/lib/config';
import { sleep } from '../../src/lib/wait';
import { silentProgress, stderrProgress } from '../../src/runtime/progress';
import { up } from '../../src/runtime/stack';

let ready: Promise<LabConfig> | undefined;

/**
 * The real stack, started once per test process (idempotent `chaos up`). Several suites run at once on one
 * machine: when another `chaos up` holds the stack lock we wait for it (bounded) instead of failing.
 */
export function ensureLab(): Promise<LabConfig> {
  ready ??= (async () => {
    const c = loadConfig();
    const deadline = Date.now() + 300_000;
    for (;;) {
      try {
        await up(c, process.env.LAB_TEST_VERBOSE ? stderrProgress() : silentProgress);
        return c;
      } catch (e) {
        if (!/another `chaos (up|down)`/.test((e as Error).message) || Date.now() > deadline)
          throw e;
        await sleep(1000);
      }
    }
  })().catch((e) => {
    ready = undefined; // a later suite may try again rather than inherit this failure
    throw e;
  });
  return ready;
}
