import * as fs from 'node:fs';
import type { Admin, Kafka } from 'kafkajs';
import { Toxiproxy } from 'toxiproxy-node-client';
import type { ProxyJson } from 'toxiproxy-node-client/dist/Proxy';
import type { LabConfig } from '../lib/config';
import { latestOffsets, READ_UNCOMMITTED } from '../lib/offsets';
import { toxiproxyUrl } from '../runtime/components/toxiproxy';
import { failpointsAt } from '../runtime/run-port';
import { serviceStatus, type ServiceStatus } from '../runtime/services';
import { infraComponents, prometheusClient, supervisorFor } from '../runtime/stack';

export interface PartitionRow {
  partition: number;
  leader: number;
  isr: number[];
  logStart: string;
  lso: string;
  hw: string;
  /** per-replica log end offset from the brokers' JMX exporter (via Prometheus): b1 → LEO */
  leo: Record<string, number>;
}
export interface TopicRow {
  topic: string;
  partitions: PartitionRow[];
  groups: { group: string; committed: Record<number, number>; lag: number }[];
}

/**
 * Per-partition offsets of every lab topic (internal ones excluded), the way `chaos offsets` reads them: LSO from a
 * READ_COMMITTED ListOffsets, HW from a READ_UNCOMMITTED one, each replica's LEO from JMX. Group lag is counted
 * against the LSO, as a read_committed consumer sees the end of the log.
 */
export async function topicRows(
  c: LabConfig,
  kafka: Kafka,
  admin: Admin,
  opts: { filter?: RegExp; max?: number } = {},
): Promise<TopicRow[]> {
  const all = (await admin.listTopics())
    .filter(
      (t) => !t.startsWith('__') && !t.startsWith('_') && (!opts.filter || opts.filter.test(t)),
    )
    .sort();
  const topics = all.slice(0, opts.max ?? 25);
  if (!topics.length) return [];
  const md = await admin.fetchTopicMetadata({ topics });
  const leo = await prometheusClient(c)
    .query('kafka_log_log_logendoffset')
    .catch(() => []); // Prometheus down: the rows lack the replicas' LEO column, the offsets read from Kafka stay
  const groups = (await admin.listGroups()).groups
    .map((g) => g.groupId)
    .filter((g) => !g.startsWith('lab-ui'));
  const committedByGroup = new Map<
    string,
    { topic: string; partitions: { partition: number; offset: string }[] }[]
  >();
  for (const g of groups)
    // A group deleted between the listing and this read has no lag to show.
    committedByGroup.set(g, await admin.fetchOffsets({ groupId: g }).catch(() => []));
  const out: TopicRow[] = [];
  for (const t of md.topics) {
    const lso = await admin.fetchTopicOffsets(t.name); // READ_COMMITTED: high = LSO, low = log start
    const hw = await latestOffsets(
      kafka,
      t.name,
      t.partitions.map((p) => p.partitionId),
      READ_UNCOMMITTED,
    );
    const partitions = t.partitions
      .map((p) => {
        const o = lso.find((x) => x.partition === p.partitionId);
        const replicaLeo: Record<string, number> = {};
        for (const s of leo)
          if (s.metric.topic === t.name && s.metric.partition === String(p.partitionId))
            replicaLeo[`b${s.metric.broker}`] = s.value;
        return {
          partition: p.partitionId,
          leader: p.leader,
          isr: p.isr,
          logStart: o?.low ?? '0',
          lso: o?.high ?? '0',
          hw: String(hw.get(p.partitionId) ?? 0n),
          leo: replicaLeo,
        };
      })
      .sort((a, b) => a.partition - b.partition);
    const topicGroups = [];
    for (const [g, offs] of committedByGroup) {
      const mine = offs.find((o) => o.topic === t.name);
      if (!mine || mine.partitions.every((p) => Number(p.offset) < 0)) continue;
      const committed = Object.fromEntries(
        mine.partitions.map((p) => [p.partition, Number(p.offset)]),
      );
      const lag = partitions.reduce(
        (a, p) => a + Math.max(0, Number(p.lso) - Math.max(0, committed[p.partition] ?? 0)),
        0,
      );
      topicGroups.push({ group: g, committed, lag });
    }
    out.push({ topic: t.name, partitions, groups: topicGroups });
  }
  return out;
}

export interface ChaosState {
  proxies: {
    name: string;
    listen: string;
    upstream: string;
    enabled: boolean;
    toxics: { name: string; type: string; stream: string; toxicity: number; attributes: unknown }[];
  }[];
  toxiproxyReachable: boolean;
  /** running services whose armed failpoints could not be read (no answer, or an error): not "none armed" */
  failpointsUnread: { service: string; error: string }[];
  failpoints: { service: string; name: string; action: string; after: number; fired: number }[];
  paused: string[];
}

/** /proc/<pid>/stat state "T": stopped by SIGSTOP (a paused broker). */
function isStopped(pid: number): boolean {
  try {
    return /^\d+ \(.*\) T /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false; // no such process any more: not paused
  }
}

/** Active faults: toxics and disabled proxies (Toxiproxy), armed failpoints (each running service), paused processes. */
export async function chaosState(c: LabConfig, services: ServiceStatus[]): Promise<ChaosState> {
  let proxies: ChaosState['proxies'] = [];
  let toxiproxyReachable = true;
  try {
    // Toxiproxy's GET /proxies carries each proxy's toxics (the client's Proxy objects do not keep them).
    await new Toxiproxy(toxiproxyUrl(c)).getAll(); // reachable?
    const all = (await (
      await fetch(`${toxiproxyUrl(c)}/proxies`, { signal: AbortSignal.timeout(2000) })
    ).json()) as Record<string, ProxyJson>;
    proxies = Object.values(all).map((p) => ({
      name: p.name,
      listen: p.listen,
      upstream: p.upstream,
      enabled: p.enabled,
      toxics: (p.toxics ?? []).map((t) => ({
        name: t.name,
        type: String(t.type),
        stream: String(t.stream),
        toxicity: t.toxicity,
        attributes: t.attributes,
      })),
    }));
    proxies.sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    toxiproxyReachable = false; // reported as such: the panel says Toxiproxy did not answer
  }
  const failpoints: ChaosState['failpoints'] = [];
  const failpointsUnread: ChaosState['failpointsUnread'] = [];
  for (const s of services.filter((x) => x.running && x.port)) {
    const armed = await failpointsAt(`http://${c.host}:${s.port}`, s.service)
      .armed()
      .catch((e: Error) => e);
    if (armed instanceof Error) {
      // A frozen or failing service may well have failpoints armed: say it could not be read, not "none".
      failpointsUnread.push({ service: s.service, error: armed.message });
      continue;
    }
    for (const a of armed)
      failpoints.push({
        service: s.service,
        name: a.name,
        action: a.action,
        after: a.after,
        fired: a.fired,
      });
  }
  const sup = supervisorFor(c);
  const paused = [
    ...infraComponents(c).map((x) => x.name),
    ...services.map((s) => s.service),
  ].filter((n) => {
    const rec = sup.read(n);
    return rec && sup.isAlive(n) && isStopped(rec.pid);
  });
  return { proxies, toxiproxyReachable, failpointsUnread, failpoints, paused };
}

export { serviceStatus };
