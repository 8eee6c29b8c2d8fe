import type { Consumer, Kafka } from 'kafkajs';
import type pino from 'pino';
import type { AnnouncedVersions } from './announced-versions';
import type { CacheStore } from './cache';
import type { QueryConfig } from './config';
import { decodeProductEvent, type ProductEvent } from '../../lib/events';
import type { QueryMetrics } from './metrics';

/**
 * Consumes product change events and invalidates the cache (CACHE_INVALIDATION: del → DEL the key; versioned →
 * move the version pointer forward). Each instance has its own consumer group, so every instance sees every
 * event — invalidation must not depend on which instance a partition happens to be assigned to.
 * Offsets are committed after the Redis write (kafkajs autocommit after eachMessage resolves), so a crash re-
 * delivers rather than skips; re-applying is harmless because both modes are idempotent.
 */
export class Invalidator {
  private consumer: Consumer | undefined;
  private assigned = 0;
  private joined = false;
  private crashed: string | undefined;
  private lastEventAt: string | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly cfg: QueryConfig,
    private readonly store: CacheStore,
    private readonly metrics: QueryMetrics,
    private readonly log: pino.Logger,
    private readonly announced: AnnouncedVersions,
  ) {}

  async start(): Promise<void> {
    const c = this.kafka.consumer({
      groupId: this.cfg.group,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    this.consumer = c;
    c.on(c.events.GROUP_JOIN, (e) => {
      this.joined = true;
      this.assigned = Object.values(e.payload.memberAssignment).reduce(
        (n, parts) => n + parts.length,
        0,
      );
      this.log.info(
        { group: this.cfg.group, assigned: e.payload.memberAssignment },
        'invalidation consumer joined',
      );
    });
    c.on(c.events.CRASH, (e) => {
      this.crashed = String(e.payload.error?.message ?? e.payload.error);
      this.log.error(
        { err: e.payload.error, restart: e.payload.restart },
        'invalidation consumer crashed',
      );
    });
    await c.connect();
    await c.subscribe({ topic: this.cfg.topic, fromBeginning: this.cfg.fromBeginning });
    await c.run({
      eachMessage: async ({ message, partition }) => {
        const L = { instance: this.metrics.instance };
        let ev: ProductEvent;
        try {
          ev = decodeProductEvent(message.value);
        } catch (err) {
          // A malformed event must not stall invalidation of every event behind it in the partition; the
          // DLQ is consumer-service's job — for a cache, skipping costs at most one TTL of staleness.
          this.metrics.eventsInvalid.inc(L);
          this.log.warn(
            { err, partition, offset: message.offset },
            'skipping unparseable change event',
          );
          return;
        }
        this.metrics.events.inc({ ...L, type: ev.type });
        // A Redis error throws: kafkajs retries and does not commit, so the invalidation is not lost.
        const changed = await this.store.invalidate(String(ev.productId), ev.version);
        this.announced.record(String(ev.productId), ev.version);
        if (changed) this.metrics.invalidations.inc({ ...L, mode: this.store.mode });
        this.lastEventAt = new Date().toISOString();
        this.log.debug(
          { id: ev.productId, version: ev.version, changed, mode: this.store.mode },
          'invalidated',
        );
      },
    });
  }

  status() {
    return {
      group: this.cfg.group,
      topic: this.cfg.topic,
      joined: this.joined,
      assignedPartitions: this.assigned,
      lastEventAt: this.lastEventAt,
      ...(this.crashed ? { crashed: this.crashed } : {}),
    };
  }

  async stop() {
    await this.consumer?.disconnect();
  }
}
