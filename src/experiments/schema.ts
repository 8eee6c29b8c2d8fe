import { z } from 'zod';
import { FaultSchema } from '../chaos/faults';

/** Rollbacks a file may declare, beside the faults' own: each really acts, and is recorded like them. */
export const DECLARED_ROLLBACKS = ['heal', 'disarm-failpoints', 'stop-services'] as const;

/**
 * The experiment file (experiments/E-00x-<slug>/experiment.yaml), shaped like a chaostoolkit experiment:
 * title, description, tags, configuration, steady-state hypothesis (probes with tolerances), method (workload
 * and fault timeline), rollbacks — plus the outcome the lab expects: `controlled` (✅ the pattern holds) or
 * `reproduced` (❌ the anti-pattern really loses/duplicates data). Documented in experiments/README.md.
 */

export const ServiceName = z.enum([
  'command-service',
  'outbox-relay',
  'outbox-relay-2',
  'consumer-service',
  'query-service',
  'query-service-2',
  'replay-worker',
]);

// Fault kinds are registered in src/chaos/faults (one file each); the experiment file uses that one union.
export { FaultSchema, type Fault } from '../chaos/faults';

/** When a step fires: before the workload, after N commands or N ms of the command stream, at quiescence, or at a moment of the workload. */
const At = z.union([
  z.literal('start'),
  z.object({ afterCommands: z.number().int().min(0) }).strict(),
  z.object({ afterMs: z.number().int().min(0) }).strict(),
  z.literal('quiescence'),
  /** a moment the workload kind declares (e.g. `storm`): the workload fires the step itself, when it comes */
  z.object({ moment: z.string().min(1) }).strict(),
]);

export const StepSchema = z
  .object({
    name: z.string().min(1),
    at: At.default('start'),
    fault: FaultSchema,
  })
  .strict();
export type Step = z.infer<typeof StepSchema>;

/** A number, or a reference to a run fact / audit figure resolved after the run ("audit.committed", "facts.crashes"). */
const Ref = z.union([
  z.number(),
  z
    .string()
    .regex(
      /^(audit|facts)\.[a-zA-Z][a-zA-Z0-9]*$/,
      'expected a number or a reference like audit.committed / facts.crashes',
    ),
]);

/** The two ways an experiment shows its standard: not applied (❌ it loses, duplicates…) and applied (✅). */
export const SIDES = ['anti-pattern', 'pattern'] as const;
export const SideName = z.enum(SIDES);
export type SideName = z.infer<typeof SideName>;

/** A probe with `side` is judged on that side only; without, on both. */
const OnSide = SideName.optional();

export const ToleranceSchema = z.union([
  z.object({ eq: Ref }).strict(),
  z.object({ gt: Ref }).strict(),
  z.object({ ge: Ref }).strict(),
  z.object({ lt: Ref }).strict(),
  z.object({ le: Ref }).strict(),
  z.object({ between: z.tuple([Ref, Ref]) }).strict(),
]);
export type Tolerance = z.infer<typeof ToleranceSchema>;

/**
 * `pattern: lt` — the pattern side's value is below the anti-pattern side's. The value is an audit figure
 * (`figure`) or what a probe observed (`probe`, by name), on each side.
 */
export const CompareSchema = z
  .object({
    name: z.string().min(1),
    figure: z.string().min(1).optional(),
    probe: z.string().min(1).optional(),
    pattern: z.enum(['lt', 'le', 'eq', 'ge', 'gt']),
  })
  .strict()
  .refine((c) => (c.figure === undefined) !== (c.probe === undefined), {
    message: 'a comparison names either a `figure` or a `probe`',
  });
export type Compare = z.infer<typeof CompareSchema>;

const PromProbe = z
  .object({
    name: z.string().min(1),
    type: z.literal('promql'),
    side: OnSide,
    /** PromQL; `$RUN` is the run id label, `$WINDOW` the run's duration as a range (e.g. 73s). */
    query: z.string().min(1),
    tolerance: ToleranceSchema,
    /** this Prometheus figure must equal an audit figure (± within): a disagreement fails the run */
    crossCheck: z
      .object({ audit: z.string().min(1), within: z.number().min(0).default(0) })
      .strict()
      .optional(),
    /**
     * An empty result is "no data", and the probe fails — unless the file says what an absent series means here
     * (e.g. a labelled counter that exists only once it counted something) and why that is sound.
     */
    absent: z
      .object({
        value: z.number(),
        reason: z.string().min(10, 'say why an absent series means this value'),
      })
      .strict()
      .optional(),
    /**
     * `run-start`: `query` is a counter selector (`metric{labels}`) that outlives runs (a broker's JVM counters); the
     * probe is its rise during this run only — from its value at the start, across restarts of its process.
     */
    baseline: z.literal('run-start').optional(),
  })
  .strict();

const AuditProbe = z
  .object({
    name: z.string().min(1),
    type: z.literal('audit'),
    side: OnSide,
    /** one of AUDIT_FIGURES, or of the scenario's figures (checked by the loader) */
    figure: z.string().min(1),
    tolerance: ToleranceSchema,
  })
  .strict();

export const ProbeSchema = z.discriminatedUnion('type', [PromProbe, AuditProbe]);
export type Probe = z.infer<typeof ProbeSchema>;

/**
 * What the alert rules (prometheus/rules/*.yml) must show during one side's run, by alert name: `firing` must fire,
 * `silent` must not, `tolerated` may (the fault's own symptom: neither required nor noise).
 */
export const AlertExpectationSchema = z
  .object({
    firing: z.array(z.string().min(1)).default([]),
    silent: z.array(z.string().min(1)).default([]),
    tolerated: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type AlertExpectation = z.infer<typeof AlertExpectationSchema>;

/** The key of a side's alert expectations: its side, or `run` in a file without sides. */
export const ALERT_KEYS = [...SIDES, 'run'] as const;
export type AlertKey = (typeof ALERT_KEYS)[number];

/** An env value; a number or boolean (e.g. a `${name}` from `configuration`) is the text a process would read. */
const EnvValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const ServiceSetup = z
  .object({
    modes: z.record(z.string()).default({}),
    env: z.record(EnvValue).default({}),
    /** restart it when it dies (as an orchestrator would), with the same modes and env */
    restartOnCrash: z.boolean().default(true),
  })
  .strict();

/** `{value, env}`: a default that an environment variable may override (chaostoolkit's env configuration). */
const ConfigValue = z.union([
  z.number(),
  z.string(),
  z.boolean(),
  z
    .object({
      value: z.union([z.number(), z.string(), z.boolean()]),
      env: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
    })
    .strict(),
]);

export const ExperimentSchema = z
  .object({
    id: z.string().regex(/^E-\d{3}$/, 'expected an id like E-001'),
    title: z.string().min(5),
    description: z.string().min(10),
    tags: z.array(z.string()).default([]),
    expected: z.enum(['controlled', 'reproduced']),
    configuration: z.record(ConfigValue).default({}),
    services: z.record(ServiceName, ServiceSetup).default({}),
    /**
     * what drives the run: one of the registered workload kinds (src/experiments/workloads), by `kind`. Here only
     * its shape: the loader validates the block against the kind's own parameters (the registry), so the schema
     * does not depend on the workloads.
     */
    workload: z.object({ kind: z.string() }).passthrough(),
    'steady-state-hypothesis': z
      .object({
        title: z.string().min(1),
        probes: z.array(ProbeSchema).min(1, 'a hypothesis needs at least one probe'),
      })
      .strict(),
    method: z.array(StepSchema).default([]),
    rollbacks: z
      .array(z.object({ name: z.string(), type: z.enum(DECLARED_ROLLBACKS) }).strict())
      .default([]),
    /** PromQL series drawn over the run in the report (`$RUN` as in probes), e.g. a consumer group's lag */
    timeSeries: z
      .array(
        z
          .object({
            title: z.string().min(1),
            query: z.string().min(1),
            unit: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
    /** per side (`run` without sides): the alerts that must fire, stay silent or may fire during its run */
    alerts: z
      .object({
        'anti-pattern': AlertExpectationSchema.optional(),
        pattern: AlertExpectationSchema.optional(),
        run: AlertExpectationSchema.optional(),
      })
      .strict()
      .optional(),
    /** which side the file's own values show; `pair` declares the other one */
    side: SideName.optional(),
    /**
     * The other side: the same workload, seed and fault schedule, with only these configuration values changed
     * (the pattern switched on or off), its own title and expected outcome. Probes with `side:` apply to one side.
     */
    pair: z
      .object({
        side: SideName,
        title: z.string().min(5),
        expected: z.enum(['controlled', 'reproduced']),
        configuration: z.record(z.union([z.number(), z.string(), z.boolean()])).default({}),
        /** relations between the sides' results, judged when both ran: bounds taken from the run, not a constant */
        compare: z.array(CompareSchema).default([]),
      })
      .strict()
      .optional(),
    /**
     * `--counterfactual` where the ❌ side's cause is not a `method` step (E-007's aborted and held-open
     * transactions, E-012's slot sharding): the workload parameters that remove it, and why they do.
     */
    counterfactual: z
      .object({
        why: z.string().min(10),
        workload: z.record(z.unknown()),
      })
      .strict()
      .optional(),
    quiescence: z
      .object({
        timeoutMs: z.number().int().positive().default(60_000),
        /**
         * After the rollbacks the engine waits until Prometheus has scraped every target and evaluated every rule
         * group since (bounded by settleTimeoutMs); settleMs is a floor on that wait, for a run that must also let
         * an alert resolve before the next one.
         */
        settleMs: z.number().int().min(0).default(0),
        settleTimeoutMs: z.number().int().positive().default(15_000),
        /** how long, after the run, an expected alert not yet firing is waited for (polled every 2 s) */
        alertWaitMs: z.number().int().min(0).default(30_000),
      })
      .strict()
      .default({}),
  })
  .strict();
export type Experiment = z.infer<typeof ExperimentSchema>;
