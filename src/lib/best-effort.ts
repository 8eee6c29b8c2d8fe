/**
 * For cleanup whose failure changes nothing the run reports (closing a client, deleting a scratch consumer group):
 * awaited, and a failure is written to stderr with what was being done — never silently dropped. Rollbacks of
 * faults do not use this: they are recorded by the engine and a failure fails the run.
 */
export async function bestEffort(work: Promise<unknown> | undefined, what: string): Promise<void> {
  await bestEffortOr(work, undefined, what);
}

/** The same for work whose answer is wanted: a failure is written to stderr and `fallback` stands in for it. */
export async function bestEffortOr<T>(
  work: Promise<T> | undefined,
  fallback: T,
  what: string,
): Promise<T> {
  try {
    return work === undefined ? fallback : await work;
  } catch (err) {
    if (process.env.LAB_QUIET_CLEANUP !== '1')
      process.stderr.write(`(cleanup) ${what}: ${(err as Error).message}\n`);
    return fallback;
  }
}
