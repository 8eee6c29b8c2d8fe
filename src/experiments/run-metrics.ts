import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import type { LabConfig } from '../lib/config';
import { refuseRequest } from '../lib/http-guard';
import { PrometheusClient } from '../lib/prometheus';
import { sleep } from '../lib/wait';
import type { RunResult } from './result';

/** The Prometheus job that scrapes the engine while a run is in progress (src/runtime/components/prometheus.ts). */
export const RUN_METRICS_JOB = 'lab-experiments';

/**
 * lab_experiment_verdict's value (METRICS.md): 1 the expected outcome was observed, 0 it deviated, −1 the run did not
 * finish (aborted, failed, interrupted), −2 inconclusive (the lab could not tell). Below 0 is "no verdict", so
 * `== 1` counts passes and `== 0` deviations, and an inconclusive run is never read as either.
 */
export const verdictValue = (r: Pick<RunResult, 'outcome'>) =>
  r.outcome === 'completed'
    ? 1
    : r.outcome === 'deviated'
      ? 0
      : r.outcome === 'inconclusive'
        ? -2
        : -1;

/**
 * The engine's own metrics, so dashboards can show verdicts next to the series they were judged on. The engine
 * is a CLI process, not a service: it serves /metrics on LAB_EXPERIMENT_METRICS_PORT only while a run lasts, and
 * after the verdict waits (≤ 5 s) until Prometheus has scraped it. The series then stay in Prometheus (stale, so
 * panels read them with last_over_time). A busy port or an old Prometheus config without the job only costs the
 * dashboards their verdict panels, never the run.
 */
export class RunMetrics {
  private constructor(
    private readonly registry: Registry,
    private readonly server: http.Server | undefined,
    private readonly prom: PrometheusClient,
    private readonly labels: { experiment: string; run: string },
    readonly problem?: string,
  ) {}

  static async start(
    c: LabConfig,
    experiment: string,
    run: string,
    seed: number,
    expected: string,
  ): Promise<RunMetrics> {
    const registry = new Registry();
    registry.setDefaultLabels({ experiment, run });
    const running = new Gauge({
      name: 'lab_experiment_running',
      help: '1 while the run is in progress',
      registers: [registry],
    });
    new Gauge({
      name: 'lab_experiment_info',
      help: 'the run (value 1): seed and expected outcome',
      labelNames: ['seed', 'expected'],
      registers: [registry],
    }).set({ seed: String(seed), expected }, 1);
    running.set(1);
    const prom = new PrometheusClient(`http://${c.host}:${c.ports.prometheus}`);
    const server = http.createServer((req, res) => {
      if (refuseRequest(req, res)) return; // a foreign Host (DNS rebinding) reads nothing: 421
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      void registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    const problem = await new Promise<string | undefined>((resolve) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        resolve(
          `run metrics not served on ${c.host}:${c.ports.experimentMetrics} (${err.code ?? err.message}); set LAB_EXPERIMENT_METRICS_PORT`,
        ),
      );
      server.listen(c.ports.experimentMetrics, c.host, () => resolve(undefined));
    });
    return new RunMetrics(
      registry,
      problem ? undefined : server,
      prom,
      { experiment, run },
      problem,
    );
  }

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  /** Sets the verdict series, waits for one scrape of them (bounded), and closes the endpoint. */
  async finish(r: RunResult): Promise<void> {
    const g = (name: string, help: string, labelNames: string[] = []) =>
      new Gauge({ name, help, labelNames, registers: [this.registry] });
    (this.registry.getSingleMetric('lab_experiment_running') as Gauge).set(0);
    g(
      'lab_experiment_verdict',
      '1 = the expected outcome was observed, 0 = deviated, -1 = aborted, failed or interrupted, -2 = inconclusive',
      ['expected', 'outcome'],
    ).set({ expected: r.expected, outcome: r.outcome }, verdictValue(r));
    const probes = g('lab_experiment_probes', 'probes of the hypothesis by result', ['result']);
    probes.set({ result: 'passed' }, r.probes.filter((p) => p.ok).length);
    probes.set({ result: 'failed' }, r.probes.filter((p) => !p.ok).length);
    const fig = g(
      'lab_experiment_audit_figure',
      "the audit's figures (lostBeforeTopic, duplicateEffects… or a scenario's own)",
      ['figure'],
    );
    for (const [k, v] of Object.entries(r.audit?.figures ?? {})) fig.set({ figure: k }, v);
    const fact = g(
      'lab_experiment_fact',
      'what the engine counted: crashes, restarts, brokerKills, toxicsAdded…',
      ['fact'],
    );
    for (const [k, v] of Object.entries(r.facts)) fact.set({ fact: k }, v);
    g('lab_experiment_duration_seconds', 'wall time of the run').set(r.durationSec);
    if (!this.server) return;
    try {
      const deadline = Date.now() + 5000;
      const scraped = `lab_experiment_verdict{run="${this.labels.run}"}`;
      // Only worth waiting when this Prometheus scrapes the engine at all (a config from before the job existed does not).
      const known =
        (await this.prom.query(`up{job="${RUN_METRICS_JOB}"}`).catch(() => [])).length > 0;
      while (
        known &&
        Date.now() < deadline &&
        !(await this.prom.query(scraped).catch(() => [])).length
      )
        await sleep(250);
    } finally {
      const server = this.server;
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
