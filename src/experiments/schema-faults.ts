import { z } from 'zod';
import { TOXIC_TYPES } from '../chaos/toxics';
import { WRITER_SCHEMAS } from '../lib/avro-events';
import { FAILPOINT_NAMES } from '../lib/failpoints';
import { COMPATIBILITY_LEVELS } from '../registry/compatibility';

const ServiceName = z.enum(['command-service', 'outbox-relay', 'consumer-service', 'query-service', 'query-service-2', 'replay-worker']);

const FailpointFault = z.object({
  type: z.literal('failpoint'),
  service: ServiceName,
  failpoint: z.enum(FAILPOINT_NAMES),
  action: z.enum(['crash', 'error', 'delay']),
  /** fire on the N-th pass (1-based) */
  after: z.number().int().min(1).default(1),
  delayMs: z.number().int().min(0).default(0),
  /** after a crash and restart, arm it again: fires at most `repeat` times in the run */
  repeat: z.number().int().min(1).default(1),
  sticky: z.boolean().default(false),
}).strict();

const ToxicFault = z.object({
  type: z.literal('toxic'),
  proxy: z.string().min(1),
  toxic: z.object({
    type: z.enum(TOXIC_TYPES),
    stream: z.enum(['upstream', 'downstream']).default('downstream'),
    toxicity: z.number().min(0).max(1).default(1),
    attributes: z.record(z.number()).default({}),
  }).strict(),
  /** removed after this long; otherwise at the end of the run (always, by the rollback) */
  durationMs: z.number().int().positive().optional(),
}).strict();

const BrokerFault = z.object({
  type: z.literal('broker'),
  action: z.enum(['kill', 'pause', 'resume', 'restart']),
  broker: z.number().int().min(1).max(3),
}).strict();

const ServiceFault = z.object({
  type: z.literal('service'),
  action: z.enum(['crash', 'restart', 'stop', 'start']),
  service: ServiceName,
  /** env changes applied on restart/start, e.g. removing CONSUMER_POISON = "the fix is deployed" */
  env: z.record(z.string()).optional(),
}).strict();

const ReplayFault = z.object({
  type: z.literal('replay'),
  dryRun: z.boolean().default(false),
  times: z.number().int().min(1).default(1),
}).strict();

/** The schema registry as an operator or a CI check uses it; `register` records the HTTP status (409 = rejected). */
const RegistryFault = z.object({
  type: z.literal('registry'),
  action: z.enum(['set-compatibility', 'register']),
  /** set-compatibility: the subject's level */
  level: z.enum(COMPATIBILITY_LEVELS).optional(),
  /** register: one of schemas/product-event/<schema>.avsc */
  schema: z.enum(WRITER_SCHEMAS).optional(),
  /** default: the run topic's value subject, `lab.exp.<run>-value` */
  subject: z.string().min(1).optional(),
}).strict();

export const FaultSchema = z.discriminatedUnion('type', [FailpointFault, ToxicFault, BrokerFault, ServiceFault, ReplayFault, RegistryFault]);
export type Fault = z.infer<typeof FaultSchema>;

