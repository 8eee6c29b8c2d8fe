/**
 * The facts the engine records while a run lasts, declared once: each is usable in a tolerance as
 * `facts.<name>`, shown in the report and exported as a metric. Who raises a fact says so where it raises it
 * (a fault kind in its `facts`, a workload kind in its `facts`).
 */
export const FACTS = {
  crashes: 'service processes that died (a crash failpoint or a kill) during the run',
  failpointsFired:
    'failpoint firings, as the services\u2019 own failpoint registries reported them',
  restarts: 'service restarts the engine performed after a crash',
  commandsSent: 'commands the workload sent',
  commandsFailed: 'commands the workload saw fail',
  brokerKills: 'brokers killed (SIGKILL) by a fault',
  clusterNodeKills: 'Redis Cluster nodes killed (SIGKILL) by a fault',
  slotsMoved: 'Redis Cluster slots moved to another master by a resharding fault',
  toxicsAdded: 'Toxiproxy toxics added (a proxy taken down counts as one)',
  replays: 'DLQ replays carried out (dry runs not counted)',
  schemaRejected: 'schema registrations the registry refused with HTTP 409',
} as const;

export type FactName = keyof typeof FACTS;
export type RunFacts = Record<FactName, number>;
export const FACT_NAMES = Object.keys(FACTS) as FactName[];

export const emptyFacts = (): RunFacts =>
  Object.fromEntries(FACT_NAMES.map((name) => [name, 0])) as RunFacts;
