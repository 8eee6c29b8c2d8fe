import type { LabConfig } from '../lib/config';
import { LabError, UnknownNameError } from '../lib/errors';
import { labKafka } from '../lib/kafka';
import { PROBE_TOPIC } from '../runtime/stack';
import { runtimeDriver } from '../runtime/driver';
import { brokerName } from './process-faults';
import { addToxic, type ToxicSpec } from './toxics';

/**
 * Faults a user can inject by hand (`chaos inject <fault>`), in Toxiproxy's vocabulary for the wire and as
 * signals for processes. Every one is undone by `chaos heal` (a killed broker comes back with `chaos up`).
 */
export const FAULTS = ['latency', 'bandwidth', 'timeout', 'reset-peer', 'down', 'broker-kill', 'broker-pause', 'broker-resume', 'service-crash'] as const;
export type FaultName = (typeof FAULTS)[number];

export interface InjectOptions {
  target?: string;
  latencyMs?: number;
  jitterMs?: number;
  rateKbps?: number;
  timeoutMs?: number;
  stream?: 'upstream' | 'downstream';
  toxicity?: number;
}

/** The leader of partition 0 of a topic: the broker whose loss forces a failover. */
async function leaderOf(c: LabConfig, topic: string): Promise<number> {
  const admin = labKafka(c, 'lab-inject').admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return md.topics[0].partitions.find((p) => p.partitionId === 0)!.leader;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The topic whose partition-0 leader a broker fault without --target hits: --topic, else a live topic of the
 * experiment named by --exp (a run's topics are lab.exp.<id>-s<seed>-…; E-009's cells share one leader), else
 * lab.probe. Lets `chaos inject broker-kill --exp E-009` kill the leader a running E-009 writes to.
 */
export async function faultTopic(c: LabConfig, o: { topic?: string; exp?: string }): Promise<string> {
  if (o.topic) return o.topic;
  if (!o.exp) return PROBE_TOPIC;
  const admin = labKafka(c, 'lab-inject').admin();
  await admin.connect();
  try {
    const prefix = `lab.exp.${o.exp.toLowerCase()}-`;
    const own = (await admin.listTopics()).filter((t) => t.startsWith(prefix) && !t.endsWith('.DLQ')).sort();
    return own[own.length - 1] ?? PROBE_TOPIC;
  } finally {
    await admin.disconnect();
  }
}

export async function inject(c: LabConfig, fault: string, o: InjectOptions, contextTopic = PROBE_TOPIC): Promise<string> {
  if (!(FAULTS as readonly string[]).includes(fault)) throw new UnknownNameError('fault', fault, FAULTS);
  const f = fault as FaultName;
  const wire = async (spec: Omit<ToxicSpec, 'proxy'>) => {
    if (!o.target) throw new LabError(`${f} needs --target <proxy> (mysql, redis, kafka-1 … kafka-3, kafka-1-internal …)`);
    const name = await addToxic(c, { proxy: o.target, stream: o.stream ?? 'downstream', toxicity: o.toxicity ?? 1, ...spec });
    return `${f} on ${o.target} (toxic ${name}); undo with \`chaos heal\``;
  };
  switch (f) {
    case 'latency':
      return wire({ type: 'latency', name: 'cli_latency', attributes: { latency: o.latencyMs ?? 200, jitter: o.jitterMs ?? 0 } });
    case 'bandwidth':
      return wire({ type: 'bandwidth', name: 'cli_bandwidth', attributes: { rate: o.rateKbps ?? 64 } });
    case 'timeout':
      return wire({ type: 'timeout', name: 'cli_timeout', attributes: { timeout: o.timeoutMs ?? 0 } });
    case 'reset-peer':
      return wire({ type: 'reset_peer', name: 'cli_reset_peer', attributes: { timeout: o.timeoutMs ?? 0 } });
    case 'down':
      return wire({ type: 'down', name: 'down' });
    case 'broker-kill':
    case 'broker-pause':
    case 'broker-resume': {
      const id = o.target ? Number(o.target.replace(/^kafka-/, '')) : await leaderOf(c, contextTopic);
      const comp = brokerName(c, id);
      await runtimeDriver(c)[f === 'broker-kill' ? 'kill' : f === 'broker-pause' ? 'pause' : 'resume'](comp);
      return `${f.replace('broker-', '')} ${comp}${o.target ? '' : ` (leader of ${contextTopic}/0)`}; ${f === 'broker-kill' ? 'bring it back with `chaos up`' : f === 'broker-pause' ? 'undo with `chaos heal`' : ''}`;
    }
    case 'service-crash':
      if (!o.target) throw new LabError('service-crash needs --target <service> (see `chaos services status`)');
      await runtimeDriver(c).kill(o.target);
      return `kill -9 ${o.target}; restart it with \`chaos services restart ${o.target}\``;
  }
}
