import type { Counter, Registry } from 'prom-client';
import { counter, histogram } from '../../lib/metrics';

/**
 * Every counter carries `instance` so two query-service processes can be told apart and summed (the stampede
 * experiments compare "DB loads across all instances"). No per-key labels on the main counters — cardinality
 * stays flat however many products exist; the one per-key counter is separate and meant for small experiments.
 */
export class QueryMetrics {
  readonly dbQueries: Counter;
  readonly dbQueriesByKey: Counter;
  readonly concurrentLoads: Counter;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly staleServes: Counter;
  readonly lockWaits: Counter;
  readonly lockWaitTimeouts: Counter;
  readonly coalesced: Counter;
  readonly refreshes: Counter;
  readonly invalidations: Counter;
  readonly staleFillsRejected: Counter;
  readonly staleFillsApplied: Counter;
  readonly cacheErrors: Counter;
  readonly events: Counter;
  readonly eventsInvalid: Counter;
  readonly requestDuration;

  constructor(
    readonly registry: Registry,
    readonly instance: string,
  ) {
    // A counter labelled by instance only is exported at 0 from the start: a probe reading it then has evidence
    // (the series) that the service was up and scraped, instead of "no data".
    const c = (name: string, help: string, labels: string[] = []) => {
      const made = counter(registry, `lab_query_${name}_total`, help, ['instance', ...labels]);
      if (!labels.length) made.inc({ instance }, 0);
      return made;
    };
    this.dbQueries = c(
      'db_queries',
      'Product loads sent to the database (every cause: miss, refresh, fallback).',
    );
    this.dbQueriesByKey = c(
      'db_queries_by_key',
      'Product loads per product id; experiments use few keys, do not use in production.',
      ['key'],
    );
    this.concurrentLoads = c(
      'db_loads_concurrent',
      'Product loads started while another load of the same product was in flight in this process: what singleflight would have coalesced (a stampede).',
    );
    this.cacheHits = c('cache_hits', 'Requests answered from a fresh cache entry.');
    this.cacheMisses = c('cache_misses', 'Requests that found no usable cache entry.');
    this.staleServes = c(
      'stale_serves',
      'Requests answered with a soft-expired entry while a refresh runs (soft-ttl).',
    );
    this.lockWaits = c(
      'lock_waits',
      'Loads that found another caller holding the Redis fill lock and waited.',
    );
    this.lockWaitTimeouts = c(
      'lock_wait_timeouts',
      'Waits that ran out (STAMPEDE_LOCK_WAIT_MS) and fell back to the database.',
    );
    this.coalesced = c(
      'singleflight_coalesced',
      'Requests that joined an in-process load already in flight for the same key.',
    );
    this.refreshes = c(
      'refreshes',
      'Background refreshes started by soft expiry or an XFetch early refresh.',
      ['trigger'],
    );
    this.invalidations = c('invalidations', 'Cache invalidations applied from change events.', [
      'mode',
    ]);
    this.staleFillsRejected = c(
      'stale_fills_rejected',
      'Fills refused because the cache already knew a newer version (versioned).',
    );
    this.staleFillsApplied = c(
      'stale_fills_applied',
      'Fills written with a version older than one a change event already announced (del): the DEL race, a stale value cached until its TTL.',
    );
    this.cacheErrors = c(
      'cache_errors',
      'Redis operations that failed; the request fell back to the database.',
    );
    this.events = c('events', 'Change events consumed.', ['type']);
    this.eventsInvalid = c('events_invalid', 'Change events skipped because they did not parse.');
    this.requestDuration = histogram(
      registry,
      'lab_query_request_duration_seconds',
      'GET /products/:id latency by where the answer came from.',
      ['instance', 'source'],
    );
  }

  /** Sum of a counter's series (optionally only those matching `where`) — for /cache/stats. */
  static async total(c: Counter, where: Record<string, string> = {}): Promise<number> {
    const { values } = await c.get();
    return values
      .filter((v) => Object.entries(where).every(([k, w]) => v.labels[k] === w))
      .reduce((s, v) => s + v.value, 0);
  }

  async snapshot() {
    const t = (c: Counter) => QueryMetrics.total(c);
    const byKey: Record<string, number> = {};
    for (const v of (await this.dbQueriesByKey.get()).values) byKey[String(v.labels.key)] = v.value;
    const inv: Record<string, number> = {};
    for (const v of (await this.invalidations.get()).values) inv[String(v.labels.mode)] = v.value;
    return {
      dbQueries: await t(this.dbQueries),
      concurrentLoads: await t(this.concurrentLoads),
      cacheHits: await t(this.cacheHits),
      cacheMisses: await t(this.cacheMisses),
      staleServes: await t(this.staleServes),
      lockWaits: await t(this.lockWaits),
      lockWaitTimeouts: await t(this.lockWaitTimeouts),
      singleflightCoalesced: await t(this.coalesced),
      refreshes: await t(this.refreshes),
      invalidations: inv,
      staleFillsRejected: await t(this.staleFillsRejected),
      staleFillsApplied: await t(this.staleFillsApplied),
      cacheErrors: await t(this.cacheErrors),
      events: await t(this.events),
      eventsInvalid: await t(this.eventsInvalid),
      dbQueriesByKey: byKey,
    };
  }
}
