import { TimeoutError } from './errors';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes; the last probe error is the cause. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  {
    timeoutMs,
    intervalMs = 250,
    abortIf,
  }: { timeoutMs: number; intervalMs?: number; abortIf?: () => Error | undefined },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const abort = abortIf?.();
    if (abort) throw abort;
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const err = new TimeoutError(
        what + (lastError ? ` (last error: ${(lastError as Error).message})` : ''),
        timeoutMs,
      );
      throw err;
    }
    await sleep(intervalMs);
  }
}
