import { z } from 'zod';
import { addToxic, removeToxic, type ToxicSpec } from '../toxics';
import { defineFault, faultObject } from './define';
import { trafficCheck } from './proxy-traffic';
import { timedUndo } from './timed-undo';
import type { FaultKind } from './types';

/** What every toxic kind has besides its own attributes (Toxiproxy's toxic fields, with units in the names). */
export const TOXIC_FIELDS = {
  /** a Toxiproxy proxy: mysql, redis, kafka-1…kafka-3 (clients), kafka-N-internal (between brokers) */
  proxy: z.string().min(1),
  /** upstream = client → server, downstream = server → client */
  stream: z.enum(['upstream', 'downstream']).default('downstream'),
  /** probability that a connection is affected */
  toxicity: z.number().min(0).max(1).default(1),
  /** removed after this long; otherwise by the rollback at the end of the run */
  durationMs: z.number().int().positive().optional(),
};

type ToxicType = Exclude<ToxicSpec['type'], 'down'>;
type Attributes<T extends ToxicType> = Extract<ToxicSpec, { type: T }>['attributes'];

/**
 * One Toxiproxy toxic as a fault kind: the lab's field names (with units) in `attributes`, and how they map onto
 * Toxiproxy's own (`toToxiproxy`). The toxic is named exp<step>_<type>_<stream> and counted in `toxicsAdded`.
 */
export function toxicKind<T extends ToxicType, A extends z.ZodRawShape>(def: {
  type: T;
  summary: string;
  attributes: A;
  toToxiproxy: (f: z.infer<z.ZodObject<A>>) => Attributes<T>;
}) {
  const schema = faultObject(def.type, { ...TOXIC_FIELDS, ...def.attributes });
  const kind: FaultKind<typeof schema> = {
    type: def.type,
    summary: def.summary,
    schema,
    facts: ['toxicsAdded'],
    async apply(env, fault, step) {
      // the schema's type is generic in A here: read the common fields and the kind's own through their schemas
      const f = fault as z.infer<z.ZodObject<typeof TOXIC_FIELDS>>;
      const attributes = def.toToxiproxy(fault as z.infer<z.ZodObject<A>>);
      const spec = {
        proxy: f.proxy,
        name: `exp${step.index}_${def.type}_${f.stream}`,
        type: def.type,
        stream: f.stream,
        toxicity: f.toxicity,
        attributes,
      };
      const traffic = await trafficCheck(env.c, f.proxy, f.stream);
      const name = await addToxic(env.c, spec as ToxicSpec);
      const shown = `${def.type} on ${f.proxy} (${f.stream}${f.toxicity < 1 ? `, toxicity ${f.toxicity}` : ''}) ${JSON.stringify(attributes)}`;
      const run = timedUndo({
        undo: async () => {
          await traffic?.removed();
          await removeToxic(env.c, f.proxy, name);
        },
        afterMs: f.durationMs,
        what: `toxic ${name} removed from ${f.proxy}`,
        note: env.note,
      });
      return {
        description: `toxic ${shown}${f.durationMs ? ` for ${f.durationMs} ms` : ''}`,
        facts: { toxicsAdded: 1 },
        data: { proxy: f.proxy, toxic: name, attributes },
        tookEffect: traffic?.check,
        rollback: {
          name: `remove toxic ${name} from ${f.proxy}`,
          run,
          leftover: `toxic ${name} on proxy ${f.proxy}`,
          fix: 'chaos heal',
        },
      };
    },
  };
  return defineFault(kind);
}
