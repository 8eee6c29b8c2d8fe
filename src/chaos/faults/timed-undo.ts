/**
 * The undo of a fault with `durationMs`: it runs on a timer, and the rollback runs it too. It runs at most once
 * (the rollback of an undo the timer already did succeeds without a second call — the toxic being gone is then
 * no failure); a timed run that failed is noted and left to the rollback, which tries again and throws.
 */
export function timedUndo(opts: {
  undo: () => Promise<void>;
  afterMs?: number;
  /** e.g. "toxic exp0_latency_downstream removed from mysql" */
  what: string;
  note: (what: string, data?: Record<string, unknown>) => void;
}): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () =>
    (done ??= opts.undo().catch((err: unknown) => {
      done = undefined; // not undone: the next caller (the rollback) tries again
      throw err;
    }));
  const timer = opts.afterMs
    ? setTimeout(() => {
        once().then(
          () => opts.note(`${opts.what} after ${opts.afterMs} ms`),
          (err: Error) =>
            opts.note(
              `${opts.what} after ${opts.afterMs} ms FAILED (${err.message}); the rollback tries again`,
            ),
        );
      }, opts.afterMs)
    : undefined;
  // Never keep a finished CLI alive for a timer; the rollback undoes the fault anyway.
  timer?.unref();
  return () => {
    clearTimeout(timer);
    return once();
  };
}
