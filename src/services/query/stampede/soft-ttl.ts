import type { Entry } from '../cache';
import { SingleFlight } from './singleflight';
import type { Answer, Deps, Strategy } from './types';
import { xfetchShouldRefresh } from './xfetch';

type Trigger = 'soft-expiry' | 'xfetch';

/**
 * STAMPEDE=soft-ttl — stale-while-revalidate. Entries carry a logical soft expiry shorter than their Redis TTL.
 * Past it, callers get the stale value immediately (source 'stale') while exactly one caller refreshes in the
 * background: one per process (the `refreshing` set) and one across instances (the Redis fill lock). So the DB
 * sees one load per key per soft expiry, and no request waits for it. Optionally XFetch starts that refresh a
 * little before the soft expiry, probabilistically (XFETCH_BETA > 0).
 * A hard miss (nothing in Redis: first read, evicted, invalidated) has nothing stale to serve; it is coalesced
 * like singleflight.
 */
export class SoftTtl implements Strategy {
  readonly name = 'soft-ttl' as const;
  private readonly sf: SingleFlight;
  private readonly refreshing = new Map<string, Promise<void>>();
  constructor(private readonly d: Deps) {
    this.sf = new SingleFlight(d);
  }

  async get(id: string): Promise<Answer> {
    const ops = this.sf.ops;
    const { entry } = await ops.read(id);
    if (!entry) {
      ops.miss();
      return this.sf.coalesce(id);
    }
    const now = Date.now();
    if (now < entry.softExpiresAt) {
      if (
        this.d.cfg.xfetchBeta > 0 &&
        xfetchShouldRefresh({
          now,
          expiry: entry.softExpiresAt,
          deltaMs: entry.deltaMs,
          beta: this.d.cfg.xfetchBeta,
        })
      ) {
        this.refresh(id, entry, 'xfetch');
      }
      return ops.hit(entry);
    }
    this.d.metrics.staleServes.inc(ops.L);
    this.refresh(id, entry, 'soft-expiry');
    return { product: entry.product, source: 'stale' };
  }

  /** Fire-and-forget: the caller already has its answer. Errors are logged; the next stale read retries. */
  private refresh(id: string, seen: Entry, trigger: Trigger) {
    if (this.refreshing.has(id)) return;
    const p = this.doRefresh(id, seen, trigger)
      .catch((err) =>
        this.d.log.warn(
          { err, id, trigger },
          'background refresh failed; stale value stays until the next try',
        ),
      )
      .finally(() => this.refreshing.delete(id));
    this.refreshing.set(id, p);
  }

  private async doRefresh(id: string, seen: Entry, trigger: Trigger) {
    const { lock, metrics } = this.d;
    const token = await lock.acquire(id);
    if (!token) return; // another instance (or a singleflight load) is on it
    await lock.hold(id, token, async () => {
      // Double-check under the lock: if the entry changed since we read it (another refresher finished and
      // released between our read and our SET NX, or an event invalidated it), there is nothing to refresh.
      const { entry } = await this.sf.ops.read(id);
      if (!entry || entry.filledAt !== seen.filledAt || entry.version !== seen.version) return;
      metrics.refreshes.inc({ ...this.sf.ops.L, trigger });
      await this.sf.ops.loadAndFill(id);
    });
  }

  async idle() {
    await Promise.allSettled([...this.refreshing.values()]);
    await this.sf.idle();
  }
}
