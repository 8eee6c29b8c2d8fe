import type { z } from 'zod';
import type { LabConfig } from '../lib/config';
import { LabError, UnknownNameError } from '../lib/errors';
import { labKafka } from '../lib/kafka';
import { sleep } from '../lib/wait';
import { restartService, serviceDef, stopService } from '../runtime/services';
import { PROBE_TOPIC } from '../runtime/stack';
import { topicReplay } from '../services/replay-worker/replay';
import { runPort } from '../runtime/run-port';
import {
  applyFault,
  FAULT_KINDS,
  FAULT_TYPES,
  faultKind,
  FaultSchema,
  type Fault,
  type FaultEnv,
  type FaultKind,
} from './faults';
import { attributeInfo, type AttributeInfo } from './faults/describe';

/**
 * `chaos inject <fault>`: one fault by hand, from the same registry as the experiment files (src/chaos/faults).
 * A kind's attributes come from flags named after them (`latencyMs` → `--latency-ms`); its target (proxy,
 * broker or service) from `--target`. Every one is undone by `chaos heal` (a killed broker comes back with `chaos up`).
 */

/** Names kept from before the registry, each one kind with fixed fields. */
export const INJECT_ALIASES: Record<string, { type: string; fields?: Record<string, unknown> }> = {
  down: { type: 'proxy-down' },
  'reset-peer': { type: 'reset_peer' },
  'slow-close': { type: 'slow_close' },
  'limit-data': { type: 'limit_data' },
  'broker-kill': { type: 'broker', fields: { action: 'kill' } },
  'broker-pause': { type: 'broker', fields: { action: 'pause' } },
  'broker-resume': { type: 'broker', fields: { action: 'resume' } },
  'service-crash': { type: 'service', fields: { action: 'crash' } },
};
/** What a by-hand fault takes when its flag is not given (the experiment files always state them). */
const INJECT_DEFAULTS: Record<string, Record<string, unknown>> = {
  latency: { latencyMs: 200 },
  bandwidth: { rateKBps: 64 },
};

export const FAULTS = [...FAULT_TYPES, ...Object.keys(INJECT_ALIASES)] as readonly string[];

/** The attribute that `--target` fills, per kind. */
const TARGETS = ['proxy', 'broker', 'service'] as const;
const targetOf = (kind: FaultKind<z.AnyZodObject>) => TARGETS.find((t) => t in kind.schema.shape);

/** `rateKBps` → `rate-kbps`, `averageSizeBytes` → `average-size-bytes`. */
export const flagName = (attribute: string) =>
  attribute.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

export interface InjectFlag extends AttributeInfo {
  flag: string;
  kinds: string[];
}

/** Every attribute of every kind that a flag can carry (targets go through --target; env maps have no flag). */
export function injectFlags(): InjectFlag[] {
  const byFlag = new Map<string, InjectFlag>();
  for (const k of FAULT_KINDS)
    for (const a of attributeInfo(k.schema)) {
      if ((TARGETS as readonly string[]).includes(a.name) || a.type === 'record') continue;
      const flag = flagName(a.name);
      const seen = byFlag.get(flag);
      if (seen) seen.kinds.push(k.type);
      else byFlag.set(flag, { ...a, flag, kinds: [k.type] });
    }
  return [...byFlag.values()];
}

/** The leader of partition 0 of a topic: the broker whose loss forces a failover. */
async function leaderOf(c: LabConfig, topic: string): Promise<number> {
  const admin = labKafka(c, 'lab-inject').admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    const partition = md.topics[0]?.partitions.find((p) => p.partitionId === 0);
    if (!partition) throw new LabError(`${topic} has no partition 0 (does it exist?)`);
    return partition.leader;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The topic whose partition-0 leader a broker fault without --target hits: --topic, else a live topic of the
 * experiment named by --exp (a run's topics are lab.exp.<id>-s<seed>-…; E-009's cells share one leader), else
 * lab.probe. Lets `chaos inject broker-kill --exp E-009` kill the leader a running E-009 writes to.
 */
export async function faultTopic(
  c: LabConfig,
  o: { topic?: string; exp?: string },
): Promise<string> {
  if (o.topic) return o.topic;
  if (!o.exp) return PROBE_TOPIC;
  const admin = labKafka(c, 'lab-inject').admin();
  await admin.connect();
  try {
    const prefix = `lab.exp.${o.exp.toLowerCase()}-`;
    const own = (await admin.listTopics())
      .filter((t) => t.startsWith(prefix) && !t.endsWith('.DLQ'))
      .sort();
    return own[own.length - 1] ?? PROBE_TOPIC;
  } finally {
    await admin.disconnect();
  }
}

/** Flag values (strings from the command line, booleans) → the kind's attributes; a flag of another kind is an error. */
function attributesFromFlags(
  kind: FaultKind<z.AnyZodObject>,
  flags: Record<string, string | boolean | undefined>,
): Record<string, unknown> {
  const own = new Map(attributeInfo(kind.schema).map((a) => [flagName(a.name), a]));
  const out: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const a = own.get(flag);
    if (!a)
      throw new LabError(
        `--${flag} is not an attribute of ${kind.type}; its flags: ${
          [...own.keys()]
            .filter((f) => !(TARGETS as readonly string[]).includes(f))
            .map((f) => `--${f}`)
            .join(', ') || '(none)'
        }, --target`,
      );
    if (a.type === 'number' && typeof value === 'string') {
      if (!/^-?\d+(\.\d+)?$/.test(value))
        throw new LabError(`--${flag} ${value}: expected a number`);
      out[a.name] = Number(value);
    } else out[a.name] = value;
  }
  return out;
}

/** The fault `chaos inject <name>` means: registered type or alias, fields from flags, validated by the kind's schema. */
export async function injectedFault(
  c: LabConfig,
  name: string,
  o: { target?: string; flags: Record<string, string | boolean | undefined> },
  contextTopic: string,
): Promise<Fault> {
  const alias = INJECT_ALIASES[name];
  if (!alias && !(FAULT_TYPES as readonly string[]).includes(name))
    throw new UnknownNameError('fault', name, FAULTS);
  const kind = faultKind(alias?.type ?? name);
  const raw: Record<string, unknown> = {
    type: kind.type,
    ...INJECT_DEFAULTS[kind.type],
    ...attributesFromFlags(kind, o.flags),
    ...alias?.fields,
  };
  const target = targetOf(kind);
  if (target === 'broker')
    raw.broker = o.target
      ? Number(o.target.replace(/^kafka-/, ''))
      : await leaderOf(c, contextTopic);
  else if (target && o.target) raw[target] = o.target;
  else if (target)
    throw new LabError(
      `${name} needs --target <${target}>${target === 'proxy' ? ' (mysql, redis, kafka-1 … kafka-3, kafka-1-internal …)' : ' (see `chaos services status`)'}`,
    );
  const parsed = FaultSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.length ? `--${flagName(String(i.path[0]))}: ` : ''}${i.message}`,
    );
    throw new LabError(`${name}: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** What a fault may use when fired by hand: the lab's default services, the topic of --topic/--exp. */
function injectEnv(c: LabConfig, topic: string, notes: string[]): FaultEnv {
  return {
    c,
    port: runPort({
      url: (s) => `http://${c.host}:${c.ports[serviceDef(s).portKey]}`,
      start: async (s, env) => {
        if (env && Object.keys(env).length)
          throw new LabError(
            '`chaos inject service` cannot change env; start the service with `chaos services up`',
          );
        await restartService(c, s);
      },
      stop: async (s) => void (await stopService(c, s)),
      // by hand, no step stopped anything the engine would wait for
      stopped: () => false,
      replay: topicReplay(c, topic),
    }),
    topic,
    note: (what) => void notes.push(what),
  };
}

/**
 * Applies the fault and leaves it in place (undo: its rollback's `fix`), or, with `durationMs`, holds it that
 * long and undoes it — a CLI that exits cannot keep a timer.
 */
export async function inject(
  c: LabConfig,
  name: string,
  o: { target?: string; flags: Record<string, string | boolean | undefined> },
  contextTopic = PROBE_TOPIC,
): Promise<{ fault: Fault; message: string }> {
  const fault = await injectedFault(c, name, o, contextTopic);
  const notes: string[] = [];
  const applied = await applyFault(injectEnv(c, contextTopic, notes), fault, {
    index: 0,
    name: `chaos inject ${name}`,
  });
  const leader = fault.type === 'broker' && !o.target ? ` (leader of ${contextTopic}/0)` : '';
  const durationMs = 'durationMs' in fault ? fault.durationMs : undefined;
  if (durationMs && applied.rollback) {
    await sleep(durationMs);
    await applied.rollback.run();
    return {
      fault,
      message: [`${applied.description}${leader}; undone after ${durationMs} ms`, ...notes].join(
        '\n',
      ),
    };
  }
  const undo = applied.rollback ? `; undo with \`${applied.rollback.fix}\`` : '';
  return { fault, message: [`${applied.description}${leader}${undo}`, ...notes].join('\n') };
}
