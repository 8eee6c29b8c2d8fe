import type { ScrapeState } from '../lib/prometheus';

export interface SettleDeps {
  clock: { now(): number; sleep(ms: number): Promise<void> };
  prometheus: { scrapeState(): Promise<ScrapeState> };
}

export interface Settled {
  waitedMs: number;
  /** targets not scraped, or rule groups not evaluated, since the run's end when the wait ran out; empty when settled */
  notCaughtUp: string[];
  /** Prometheus could not be asked: the wait ran its whole bound */
  error?: string;
}

const POLL_MS = 200;

/**
 * Waits until Prometheus holds the run's final values instead of for a fixed time: every active target scraped
 * after `sinceMs` (the rollbacks' end), then every rule group evaluated after that, so recording rules and alerts
 * see them too. A target that is down counts once its scrape was tried (its `up` is 0 from then on). Bounded by
 * `timeoutMs`; at least `minMs` in any case (an experiment that needs its alerts to resolve before the next run).
 */
export async function settleScrapes(
  deps: SettleDeps,
  sinceMs: number,
  { timeoutMs, minMs }: { timeoutMs: number; minMs: number },
): Promise<Settled> {
  const started = deps.clock.now();
  let scrapedAtMs: number | undefined; // when every target had been scraped since `sinceMs`
  let notCaughtUp: string[] = [];
  let error: string | undefined;
  for (;;) {
    try {
      const state = await deps.prometheus.scrapeState();
      error = undefined;
      const unscraped = state.targets
        .filter((t) => t.lastScrapeMs < sinceMs)
        .map((t) => `target ${t.target}`);
      if (!unscraped.length) scrapedAtMs ??= deps.clock.now();
      const scrapedAt = scrapedAtMs;
      const unevaluated =
        scrapedAt === undefined
          ? []
          : state.ruleGroups
              .filter((g) => g.lastEvaluationMs < scrapedAt)
              .map((g) => `rule group ${g.group}`);
      notCaughtUp = [...unscraped, ...unevaluated];
    } catch (err) {
      error = (err as Error).message;
    }
    const waitedMs = deps.clock.now() - started;
    if (!notCaughtUp.length && !error && waitedMs >= minMs) return { waitedMs, notCaughtUp };
    if (waitedMs >= Math.max(timeoutMs, minMs)) return { waitedMs, notCaughtUp, error };
    await deps.clock.sleep(!notCaughtUp.length && !error ? minMs - waitedMs : POLL_MS);
  }
}
