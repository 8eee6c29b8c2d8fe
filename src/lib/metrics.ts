import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per service, passed in; names follow lab_<service>_<thing>_<unit>_total (see METRICS.md).
 * Every series carries `run` (LAB_RUN_ID, set by the experiment engine) and `incarnation` (this process): a
 * restarted service starts new series at 0, so `sum(max_over_time(x{run="…"}[w]))` counts exactly across
 * crashes, where `increase()` would extrapolate.
 */
export function serviceRegistry(service: string, env: NodeJS.ProcessEnv = process.env): Registry {
  const r = new Registry();
  r.setDefaultLabels({
    service,
    run: env.LAB_RUN_ID ?? 'adhoc',
    incarnation: `${process.pid}-${Date.now().toString(36)}`,
  });
  collectDefaultMetrics({ register: r, prefix: 'lab_process_' });
  return r;
}

export const counter = (r: Registry, name: string, help: string, labelNames: string[] = []) =>
  new Counter({ name, help, labelNames, registers: [r] });
export const gauge = (r: Registry, name: string, help: string, labelNames: string[] = []) =>
  new Gauge({ name, help, labelNames, registers: [r] });
export const histogram = (
  r: Registry,
  name: string,
  help: string,
  labelNames: string[] = [],
  buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
) => new Histogram({ name, help, labelNames, buckets, registers: [r] });
