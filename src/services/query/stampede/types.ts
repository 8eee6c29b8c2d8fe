import type pino from 'pino';
import type { Failpoints } from '../../../lib/failpoints';
import type { AnnouncedVersions } from '../announced-versions';
import type { CacheStore, Entry, FillLock, ReadResult } from '../cache';
import { expiries } from '../cache';
import type { QueryConfig } from '../config';
import type { QueryMetrics } from '../metrics';
import type { Product, ProductRepository } from '../repository';

export type Source = 'cache' | 'db' | 'stale';
export interface Answer {
  product: Product | null;
  source: Source;
}

/** A STAMPEDE mode: how a request turns into cache reads and (as few as it can) DB loads. */
export interface Strategy {
  readonly name: QueryConfig['stampede'];
  get(id: string): Promise<Answer>;
  /** Work still running in the background (soft-ttl refreshes), awaited on shutdown. */
  idle(): Promise<void>;
}

export interface Deps {
  cfg: QueryConfig;
  store: CacheStore;
  lock: FillLock;
  repo: ProductRepository;
  metrics: QueryMetrics;
  log: pino.Logger;
  failpoints: Failpoints;
  /** the newest version change events announced per product (the invalidation consumer records them) */
  announced: AnnouncedVersions;
}

/**
 * What every mode shares: a cache read that degrades to a miss when Redis fails (the DB is the source of truth,
 * so a Redis outage costs latency, not answers), and a DB load followed by a fill.
 */
export class CacheOps {
  readonly L: { instance: string };
  constructor(readonly d: Deps) {
    this.L = { instance: d.metrics.instance };
  }

  async read(id: string): Promise<ReadResult> {
    try {
      return await this.d.store.read(id);
    } catch (err) {
      this.d.metrics.cacheErrors.inc(this.L);
      this.d.log.warn({ err, id }, 'cache read failed; treating as a miss');
      return { entry: null };
    }
  }

  /** Loads the row and fills the cache. A missing product is not cached (no negative caching). */
  async loadAndFill(id: string): Promise<Answer> {
    const { product, deltaMs } = await this.d.repo.load(id);
    // E-010's window: a change committed and its event handled while this reader holds the row it loaded.
    await this.d.failpoints.hit('query.after-db-load-before-fill', [id]);
    if (product) {
      const now = Date.now();
      const { hardTtlMs, softExpiresAt } = expiries(this.d.cfg, now);
      const entry: Entry = {
        product,
        version: product.version,
        filledAt: now,
        softExpiresAt,
        deltaMs,
      };
      try {
        const written = await this.d.store.fill(id, entry, hardTtlMs);
        const announced = this.d.announced.get(id);
        if (written && announced !== undefined && announced > product.version) {
          // del: the event's DEL came before this fill and found no key; the old row is now cached until the TTL.
          this.d.metrics.staleFillsApplied.inc(this.L);
          this.d.log.warn(
            { id, version: product.version, announced },
            'stale fill applied: a newer version was already announced',
          );
        }
        if (!written) {
          // versioned: an event for a newer version passed while we loaded. We still answer with what the DB
          // gave us (it was true when read) but it must not become the cached value.
          this.d.metrics.staleFillsRejected.inc(this.L);
          this.d.log.info(
            { id, version: product.version },
            'stale fill rejected: the cache already knows a newer version',
          );
        }
      } catch (err) {
        this.d.metrics.cacheErrors.inc(this.L);
        this.d.log.warn({ err, id }, 'cache fill failed; answering from the DB anyway');
      }
    }
    return { product, source: 'db' };
  }

  hit(e: Entry): Answer {
    this.d.metrics.cacheHits.inc(this.L);
    return { product: e.product, source: 'cache' };
  }
  miss() {
    this.d.metrics.cacheMisses.inc(this.L);
  }
}
