import { sleep } from '../../../lib/wait';
import { CacheOps, type Answer, type Deps, type Strategy } from './types';

/**
 * STAMPEDE=singleflight — two layers, because either alone leaks:
 *  1. in-process coalescing: concurrent misses on one key in this process share one promise (one load);
 *  2. a short Redis lock (SET NX PX) per key: across instances only the lock holder loads; the others poll the
 *     cache until the value appears, the lock disappears (holder failed: take over), or the bounded wait ends
 *     (then load anyway — availability over strictness, counted in lock_wait_timeouts).
 * Expected: one DB load per key per expiry across all instances. A second one happens only if a waiter's bounded
 * wait ends before the load does, or the holder's lock renewal fails (Redis hiccup) and the lock expires.
 */
export class SingleFlight implements Strategy {
  readonly name = 'singleflight' as const;
  readonly ops: CacheOps;
  private readonly flights = new Map<string, Promise<Answer>>();
  constructor(private readonly d: Deps) {
    this.ops = new CacheOps(d);
  }

  async get(id: string): Promise<Answer> {
    const { entry } = await this.ops.read(id);
    if (entry) return this.ops.hit(entry);
    this.ops.miss();
    return this.coalesce(id);
  }

  /** Joins the load in flight for `id` in this process, or starts it. */
  coalesce(id: string): Promise<Answer> {
    const inFlight = this.flights.get(id);
    if (inFlight) {
      this.d.metrics.coalesced.inc(this.ops.L);
      return inFlight;
    }
    const p = this.loadOnce(id).finally(() => this.flights.delete(id));
    this.flights.set(id, p);
    return p;
  }

  private async loadOnce(id: string): Promise<Answer> {
    const { lock, metrics, cfg, log } = this.d;
    const deadline = Date.now() + cfg.lockWaitMs;
    let counted = false;
    for (;;) {
      let token: string | null;
      try {
        token = await lock.acquire(id);
      } catch (err) {
        // Redis down: the in-process layer still protects this instance; load rather than fail the request.
        metrics.cacheErrors.inc(this.ops.L);
        log.warn({ err, id }, 'fill lock unavailable; loading without it');
        return this.ops.loadAndFill(id);
      }
      if (token) {
        return lock.hold(id, token, async () => {
          // Double-check under the lock: the previous holder may have filled between our miss and our SET NX.
          const again = await this.ops.read(id);
          if (again.entry) return { product: again.entry.product, source: 'cache' as const };
          return this.ops.loadAndFill(id);
        });
      }
      if (!counted) {
        metrics.lockWaits.inc(this.ops.L);
        counted = true;
      }
      let holderGone = false;
      while (Date.now() < deadline) {
        await sleep(cfg.lockPollMs);
        const r = await this.ops.read(id);
        if (r.entry) return { product: r.entry.product, source: 'cache' };
        if (!(await lock.held(id).catch(() => false))) {
          holderGone = true; // released without a value (product missing, load failed, holder died): take over
          break;
        }
      }
      if (!holderGone) {
        metrics.lockWaitTimeouts.inc(this.ops.L);
        log.warn({ id, waitedMs: cfg.lockWaitMs }, 'fill lock wait timed out; loading from the DB');
        return this.ops.loadAndFill(id);
      }
    }
  }

  async idle() {
    await Promise.allSettled([...this.flights.values()]);
  }
}
