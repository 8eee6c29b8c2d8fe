import { loadConfig, type LabConfig } from '../../src/lib/config';
import { silentProgress, stderrProgress } from '../../src/runtime/progress';
import { up } from '../../src/runtime/stack';

let ready: Promise<LabConfig> | undefined;

/** The real stack, started once per test process (idempotent `chaos up`). */
export function ensureLab(): Promise<LabConfig> {
  ready ??= (async () => {
    const c = loadConfig();
    await up(c, process.env.LAB_TEST_VERBOSE ? stderrProgress() : silentProgress);
    return c;
  })();
  return ready;
}
