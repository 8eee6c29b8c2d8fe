import { expect } from 'chai';
import { z } from 'zod';
import type { AppliedFault } from '../../src/chaos/faults/types';
import { alertRules } from '../../src/experiments/alert-rules';
import { runExperiment, type RunResult } from '../../src/experiments/engine';
import { mustRead } from '../../src/experiments/inconclusive';
import type { EngineDeps, RunServices } from '../../src/experiments/engine-deps';
import type { LoadedExperiment } from '../../src/experiments/loader';
import { ExperimentSchema } from '../../src/experiments/schema';
import type { AnyWorkloadKind } from '../../src/experiments/workloads';
import { finished, type WorkloadContext } from '../../src/experiments/workloads/types';
import { findRoot, type LabConfig } from '../../src/lib/config';
import { TimeoutError } from '../../src/lib/errors';
import type { Sample } from '../../src/lib/prometheus';
import { silentProgress } from '../../src/runtime/progress';
import { runPort } from '../../src/runtime/run-port';

/**
 * The engine's run path with every dependency faked (no stack): what a run records when a rollback fails, when it
 * is interrupted, and when a probe's series is missing. The real path is covered by the verdict suites.
 */

/** A workload that counts to `events` and reports it, firing its `poke` steps at its moment. */
const counting: AnyWorkloadKind = {
  kind: 'counting',
  summary: 'counts',
  params: z.object({ events: z.number().int() }).strict(),
  figures: ['events'],
  facts: [],
  moments: ['poke'],
  async run(ctx: WorkloadContext<{ events: number }>) {
    for (const step of ctx.steps) await ctx.fire(step);
    return finished({ figures: { events: ctx.params.events } });
  },
};

function experiment(extra: Record<string, unknown> = {}): LoadedExperiment {
  const raw = {
    id: 'E-950',
    title: 'engine unit test',
    description: 'fakes only',
    expected: 'reproduced',
    workload: { kind: 'commands', commands: 1, products: 1 },
    method: [{ name: 'a fault', at: 'start', fault: { type: 'replay' } }],
    'steady-state-hypothesis': {
      title: 't',
      probes: [
        { name: 'events happened', type: 'audit', figure: 'committed', tolerance: { gt: 0 } },
      ],
    },
    quiescence: { settleMs: 0 },
    ...extra,
  };
  const parsed = ExperimentSchema.parse(raw);
  // The file names `commands` (the schema's union); the fake kind stands in for it.
  return {
    experiment: { ...parsed, workload: { kind: 'counting', events: 3 } },
    dir: '/tmp',
    file: '/tmp/E-950/experiment.yaml',
    config: {},
  };
}

interface Fakes {
  deps: EngineDeps;
  applied: string[];
  undone: string[];
  stopped: number;
}

function fakes(
  o: {
    failUndo?: boolean;
    samples?: Sample[];
    onApply?: () => void;
    workload?: AnyWorkloadKind;
    firings?: Record<string, number>;
    effect?: AppliedFault['tookEffect'];
  } = {},
): Fakes {
  const f: Fakes = { applied: [], undone: [], stopped: 0, deps: undefined as never };
  let now = 1_700_000_000_000;
  const services: RunServices = {
    startAll: async () => {},
    watch: () => {},
    stopWatching: () => {},
    stopAll: async () => void f.stopped++,
    disarmAll: async () => {},
    port: () =>
      runPort({
        url: () => 'http://127.0.0.1:9',
        start: async () => {},
        stop: async () => {},
        stopped: () => false,
        replay: async () => ({ inDlq: 0, selected: 0, replayed: 0 }),
      }),
    rearmOnRestart: () => {},
    failpointFirings: async () => o.firings ?? { 'command.after-commit-before-produce': 2 },
  };
  f.deps = {
    clock: { now: () => (now += 10), sleep: async (ms) => void (now += ms) },
    stack: { up: async () => {}, heal: async () => {}, healToxics: async () => {} },
    prometheus: {
      query: async () => o.samples ?? [],
      range: async () => [],
      scalar: async () => undefined,
      metricNames: async () => ['lab_fake_total'],
      // Prometheus has loaded the rules on disk: the preflight finds every alert name the files declare.
      rules: async () =>
        [...alertRules(findRoot()).entries()].map(([name, r]) => ({
          type: 'alerting' as const,
          name,
          group: 'lab',
          file: r.file,
        })),
      // scraped and evaluated as of now: the settle step returns at once
      scrapeState: async () => ({
        targets: [{ target: 'lab-services/fake', lastScrapeMs: now }],
        ruleGroups: [{ group: 'lab-fake', lastEvaluationMs: now + 1000 }],
      }),
    },
    documentedMetrics: new Set(),
    db: { pool: () => ({ end: async () => {} }) as never },
    reset: async () => {},
    services: () => services,
    workloadFor: () => o.workload ?? counting,
    parseFault: (raw) => raw as never,
    applyFault: async (_env, fault, step): Promise<AppliedFault> => {
      o.onApply?.();
      f.applied.push(step.name);
      return {
        description: `applied ${fault.type}`,
        // what the real kinds raise when they apply: a replay counts itself (the engine requires it above 0)
        facts: fault.type === 'replay' ? { replays: 1 } : { toxicsAdded: 1 },
        ...(o.effect ? { tookEffect: o.effect } : {}),
        rollback: {
          name: `undo ${step.name}`,
          leftover: `the ${step.name} toxic`,
          fix: 'chaos heal',
          run: async () => {
            if (o.failUndo) throw new Error('Toxiproxy said 500');
            f.undone.push(step.name);
          },
        },
      };
    },
    timeSeries: async () => ({}),
    runMetrics: async () => ({ finish: async () => {} }),
  };
  return f;
}

const run = (
  loaded: LoadedExperiment,
  deps: EngineDeps,
  signal?: AbortSignal,
): Promise<RunResult> =>
  runExperiment({} as LabConfig, loaded, { seed: 1, progress: silentProgress, signal }, deps);

describe('experiment engine (fakes, no stack)', () => {
  it('runs a workload kind, rolls its faults back and records each rollback, then judges the probes', async () => {
    const f = fakes();
    const r = await run(
      experiment({
        'steady-state-hypothesis': {
          title: 't',
          probes: [{ name: 'counted', type: 'audit', figure: 'events', tolerance: { eq: 3 } }],
        },
      }),
      f.deps,
    );
    expect(r.outcome).to.equal('completed');
    expect(f.undone).to.deep.equal(['a fault']);
    expect(r.rollbacks.map((x) => [x.name, x.status])).to.deep.include.members([
      ['undo a fault', 'ok'],
      ['remove every toxic', 'ok'],
    ]);
    expect(r.facts.replays).to.equal(1);
    expect(r.facts.failpointsFired).to.equal(2); // the services' own report, not a count of deaths
  });

  it('ends `failed` when a rollback fails, saying what is left and the command that removes it', async () => {
    const f = fakes({ failUndo: true });
    const r = await run(
      experiment({
        'steady-state-hypothesis': {
          title: 't',
          probes: [{ name: 'counted', type: 'audit', figure: 'events', tolerance: { eq: 3 } }],
        },
      }),
      f.deps,
    );
    expect(r.outcome).to.equal('failed');
    const failed = r.rollbacks.filter((x) => x.status === 'failed');
    expect(failed).to.have.length(1);
    expect(failed[0]).to.deep.include({
      name: 'undo a fault',
      error: 'Toxiproxy said 500',
      leftover: 'the a fault toxic',
      fix: 'chaos heal',
    });
    expect(r.error).to.match(
      /1 rollback\(s\) failed: undo a fault \(left: the a fault toxic; remove with `chaos heal`\)/,
    );
    expect(f.stopped).to.be.greaterThan(0); // the engine's own cleanup still ran
  });

  it('ends `interrupted` on Ctrl-C mid-run, with every applied fault rolled back and recorded', async () => {
    const abort = new AbortController();
    const f = fakes({ onApply: () => abort.abort() });
    const loaded = experiment({
      method: [
        { name: 'first', at: 'start', fault: { type: 'replay' } },
        { name: 'second', at: 'start', fault: { type: 'replay' } },
      ],
    });
    const r = await run(loaded, f.deps, abort.signal);
    expect(r.outcome).to.equal('interrupted');
    expect(f.applied).to.deep.equal(['first']); // the next step never fired
    expect(f.undone).to.deep.equal(['first']);
    expect(r.rollbacks.find((x) => x.name === 'undo first')?.status).to.equal('ok');
  });

  it('fails a PromQL probe whose series is missing: "no data for <query>"', async () => {
    const f = fakes({ samples: [] });
    const probes = [
      { name: 'events', type: 'audit', figure: 'events', tolerance: { eq: 3 } },
      {
        name: 'nothing lost',
        type: 'promql',
        query: 'sum(lab_fake_total{run="$RUN"})',
        tolerance: { eq: 0 },
      },
    ];
    const r = await run(experiment({ 'steady-state-hypothesis': { title: 't', probes } }), f.deps);
    expect(r.outcome).to.equal('deviated');
    const probe = r.probes.find((p) => p.name === 'nothing lost');
    expect(probe).to.deep.include({ ok: false, observed: null });
    expect(probe?.detail).to.equal(`no data for sum(lab_fake_total{run="${r.runId}"})`);
  });

  it('accepts a missing series only where the probe declares what absence means', async () => {
    const f = fakes({ samples: [] });
    const probes = [
      { name: 'events', type: 'audit', figure: 'events', tolerance: { eq: 3 } },
      {
        name: 'nothing lost',
        type: 'promql',
        query: 'sum(lab_fake_total)',
        tolerance: { eq: 0 },
        absent: { value: 0, reason: 'the counter appears at its first loss' },
      },
    ];
    const r = await run(experiment({ 'steady-state-hypothesis': { title: 't', probes } }), f.deps);
    expect(r.outcome).to.equal('completed');
    expect(r.probes[1].detail).to.match(
      /no series; 0 because the counter appears at its first loss/,
    );
  });

  it('counts a lifetime counter\u2019s rise during the run only, across a restart and a series born mid-run (`baseline: run-start`)', async () => {
    const f = fakes();
    // Broker 1's counter held 40 at the start, rose to 45, was restarted (back to 0) and counted 2 more; broker 2's
    // series was born during the run at 3: this run's rejections are 5 + 2 + 3.
    f.deps.prometheus.range = async (_q, start) => [
      {
        metric: { broker: '1' },
        values: [
          [start + 1, 40],
          [start + 40, 40],
          [start + 41, 45],
          [start + 42, 0],
          [start + 43, 2],
        ],
      },
      { metric: { broker: '2' }, values: [[start + 42, 3]] },
    ];
    const probes = [
      { name: 'events', type: 'audit', figure: 'events', tolerance: { eq: 3 } },
      {
        name: 'rejections',
        type: 'promql',
        query: 'lab_fake_total{error="x"}',
        tolerance: { eq: 10 },
        baseline: 'run-start',
      },
    ];
    const r = await run(experiment({ 'steady-state-hypothesis': { title: 't', probes } }), f.deps);
    expect(r.probes[1]).to.deep.include({ observed: 10, baseline: 40, ok: true });
  });

  it('aborts (and still rolls back) when the workload does not report a figure its kind declares', async () => {
    const f = fakes();
    const silent: AnyWorkloadKind = { ...counting, figures: ['events', 'missing'] };
    f.deps.workloadFor = () => silent;
    const r = await run(experiment(), f.deps);
    expect(r.outcome).to.equal('aborted');
    expect(r.error).to.match(/did not report its figure\(s\) missing/);
    expect(f.undone).to.deep.equal(['a fault']);
  });

  it('lets a workload undo a fault early, recorded once', async () => {
    const f = fakes();
    const early: AnyWorkloadKind = {
      ...counting,
      async run(ctx: WorkloadContext<{ events: number }>) {
        for (const step of ctx.steps) await (await ctx.fire(step)).undo();
        return finished({ figures: { events: 3 } });
      },
    };
    f.deps.workloadFor = () => early;
    const loaded = experiment({
      method: [{ name: 'storm', at: { moment: 'poke' }, fault: { type: 'replay' } }],
    });
    const r = await run(loaded, f.deps);
    expect(f.undone).to.deep.equal(['storm']);
    expect(r.rollbacks.filter((x) => x.name === 'undo storm')).to.have.length(1);
  });

  it('gives a workload the file\u2019s steps at one of its moments (ctx.stepsAt)', async () => {
    const f = fakes();
    let seen: string[] = [];
    f.deps.workloadFor = () => ({
      ...counting,
      async run(ctx: WorkloadContext<{ events: number }>) {
        seen = ctx.stepsAt('poke').map((s) => s.name);
        return finished({ figures: { events: 3 } });
      },
    });
    const loaded = experiment({
      method: [
        { name: 'a fault', at: 'start', fault: { type: 'replay' } },
        { name: 'storm', at: { moment: 'poke' }, fault: { type: 'replay' } },
        { name: 'late', at: 'quiescence', fault: { type: 'replay' } },
        { name: 'storm again', at: { moment: 'poke' }, fault: { type: 'replay' } },
      ],
    });
    await run(loaded, f.deps);
    expect(seen).to.deep.equal(['storm', 'storm again']);
  });

  it('ends `interrupted` when a looping workload checks Ctrl-C between rounds (ctx.throwIfAborted)', async () => {
    const abort = new AbortController();
    const f = fakes();
    let rounds = 0;
    f.deps.workloadFor = () => ({
      ...counting,
      async run(ctx: WorkloadContext<{ events: number }>) {
        for (let round = 1; round <= 5; round++) {
          ctx.throwIfAborted();
          rounds++;
          if (round === 2) abort.abort(); // Ctrl-C during the second round
        }
        return finished({ figures: { events: rounds } });
      },
    });
    const r = await run(experiment(), f.deps, abort.signal);
    expect(r.outcome).to.equal('interrupted');
    expect(rounds).to.equal(2); // the third round never started
    expect(f.undone).to.deep.equal(['a fault']);
  });

  describe('counterfactual: the faults removed', () => {
    /** a workload whose anomaly exists only when its step really applied */
    const faultDriven: AnyWorkloadKind = {
      ...counting,
      async run(ctx: WorkloadContext<{ events: number }>) {
        let struck = 0;
        for (const step of ctx.steps) if ((await ctx.fire(step)).applied) struck++;
        return finished({ figures: { events: struck } });
      },
    };
    const loaded = () =>
      experiment({
        method: [{ name: 'storm', at: { moment: 'poke' }, fault: { type: 'replay' } }],
        'steady-state-hypothesis': {
          title: 't',
          probes: [{ name: 'it struck', type: 'audit', figure: 'events', tolerance: { gt: 0 } }],
        },
      });
    const counterfactual = (deps: EngineDeps) =>
      runExperiment(
        {} as LabConfig,
        loaded(),
        { seed: 1, progress: silentProgress, counterfactual: true },
        deps,
      );

    it('records every step without applying it, and holds when the side then does not reproduce', async () => {
      const f = fakes({ workload: faultDriven });
      const r = await counterfactual(f.deps);
      expect(f.applied).to.deep.equal([]);
      expect(r.timeline.map((t) => t.what)).to.include(
        'storm: not applied (counterfactual: every fault step removed)',
      );
      expect(r.outcome).to.equal('completed');
      expect(r.counterfactual).to.deep.equal({ reproduced: false, because: ['probe "it struck"'] });
    });

    it('deviates when the side reproduces without its faults', async () => {
      const f = fakes({
        workload: { ...counting, run: async () => finished({ figures: { events: 3 } }) },
      });
      const r = await counterfactual(f.deps);
      expect(r.outcome).to.equal('deviated');
      expect(r.counterfactual?.reproduced).to.equal(true);
    });
  });

  describe('inconclusive: the lab could not tell', () => {
    it('ends inconclusive when a fact its fired steps always raise stayed 0', async () => {
      const f = fakes();
      const apply = f.deps.applyFault;
      f.deps.applyFault = async (...a) => ({ ...(await apply(...a)), facts: {} });
      const r = await run(experiment(), f.deps);
      expect(r.outcome).to.equal('inconclusive');
      expect(r.inconclusive).to.deep.equal([
        'facts.replays is 0 although a step that raises it was fired',
      ]);
    });

    const judgedOn = (probes: unknown[], extra: Record<string, unknown> = {}) =>
      experiment({ 'steady-state-hypothesis': { title: 't', probes }, ...extra });
    const counted = [{ name: 'counted', type: 'audit', figure: 'events', tolerance: { eq: 3 } }];

    it('ends inconclusive, not completed, when the audit could not read the DLQ', async () => {
      const f = fakes();
      f.deps.workloadFor = () => ({
        ...counting,
        run: async () => ({
          audit: () =>
            mustRead('the DLQ lab.exp.x.dlq', Promise.reject(new Error('broker timeout'))),
        }),
      });
      const r = await run(judgedOn(counted), f.deps);
      expect(r.outcome).to.equal('inconclusive');
      expect(r.inconclusive).to.deep.equal([
        'the DLQ lab.exp.x.dlq could not be read: broker timeout',
      ]);
      expect(f.undone).to.deep.equal(['a fault']); // rolled back all the same
    });

    it('ends inconclusive when Prometheus had not scraped every target before the settle timed out', async () => {
      const f = fakes();
      f.deps.prometheus.scrapeState = async () => ({
        targets: [{ target: 'lab-services/fake', lastScrapeMs: 0 }],
        ruleGroups: [],
      });
      const r = await run(judgedOn(counted, { quiescence: { settleTimeoutMs: 1000 } }), f.deps);
      expect(r.outcome).to.equal('inconclusive');
      expect(r.inconclusive?.[0]).to.match(/^settle: after .* not caught up .*lab-services\/fake/);
      expect(r.probes[0].ok).to.equal(true); // the probes agreed, and still it cannot read as a pass
    });

    it('ends inconclusive when the workload could not reach quiescence', async () => {
      const f = fakes();
      f.deps.workloadFor = () => ({
        ...counting,
        async run(ctx: WorkloadContext<{ events: number }>) {
          ctx.inconclusive('quiescence not reached in 1000 ms (lag 4)');
          return finished({ figures: { events: 3 } });
        },
      });
      const r = await run(judgedOn(counted), f.deps);
      expect(r.outcome).to.equal('inconclusive');
      expect(r.inconclusive).to.deep.equal(['quiescence not reached in 1000 ms (lag 4)']);
    });

    it('ends inconclusive, not aborted, when a wait of the workload timed out', async () => {
      const f = fakes();
      f.deps.workloadFor = () => ({
        ...counting,
        run: async () => {
          throw new TimeoutError('the replica to be promoted', 30_000);
        },
      });
      const r = await run(judgedOn(counted), f.deps);
      expect(r.outcome).to.equal('inconclusive');
      expect(r.inconclusive).to.deep.equal([
        'timed out after 30000 ms waiting for the replica to be promoted',
      ]);
      expect(f.undone).to.deep.equal(['a fault']);
    });

    it('ends inconclusive when an armed failpoint never fired', async () => {
      const f = fakes({ firings: {} });
      const loaded = judgedOn(counted, {
        method: [
          {
            name: 'crash after commit',
            at: 'start',
            fault: {
              type: 'failpoint',
              service: 'command-service',
              failpoint: 'command.after-commit-before-produce',
              action: 'crash',
            },
          },
        ],
      });
      const r = await run(loaded, f.deps);
      expect(r.outcome).to.equal('inconclusive');
      expect(r.inconclusive).to.deep.equal([
        'failpoint command.after-commit-before-produce was armed but never fired',
      ]);
    });

    it('ends inconclusive when a fault reports it reached nothing, checked before its undo', async () => {
      const f = fakes({
        effect: async () => ({ took: false, detail: 'no traffic entered mysql downstream' }),
      });
      const r = await run(judgedOn(counted), f.deps);
      expect(r.outcome).to.equal('inconclusive');
      expect(r.inconclusive).to.deep.equal([
        'a fault: the fault never took effect (no traffic entered mysql downstream)',
      ]);
    });

    it('ends inconclusive, not deviated, when a probe\u2019s query errored', async () => {
      const f = fakes();
      // preflight's check of the query passes; Prometheus fails when the probe is read at the run's end
      f.deps.prometheus.query = async (_q, atSec) => {
        if (atSec === undefined) return [];
        throw new Error('Prometheus: 503');
      };
      const probes = [
        ...counted,
        {
          name: 'nothing lost',
          type: 'promql',
          query: 'sum(lab_fake_total)',
          tolerance: { eq: 0 },
        },
      ];
      const r = await run(judgedOn(probes), f.deps);
      expect(r.outcome).to.equal('inconclusive');
      expect(r.probes[1]).to.deep.include({ ok: false, inconclusive: true });
    });
  });

  describe('alert expectations (ALERTS from a fake Prometheus, a fake clock)', () => {
    interface FakeAlert {
      name: string;
      severity?: string;
      labels?: Record<string, string>;
      /** seconds after the run start: first pending, first firing (if it fires) */
      pendingAt: number;
      firingAt?: number;
      /** ALERTS_FOR_STATE's value (epoch seconds), relative to the run start */
      activeAt?: number;
    }

    /** Prometheus' ALERTS and ALERTS_FOR_STATE for these alerts, as far as the range's end has reached them. */
    function withAlerts(f: Fakes, alerts: FakeAlert[]) {
      const queries: string[] = [];
      let startSec = 0;
      f.deps.prometheus.range = async (q, start, end) => {
        queries.push(q);
        startSec = start;
        const metric = (a: FakeAlert) => ({
          alertname: a.name,
          severity: a.severity ?? 'critical',
          ...a.labels,
        });
        const seen = alerts.filter((a) => start + a.pendingAt <= end);
        if (q === 'ALERTS')
          return seen.flatMap((a) => [
            { metric: { ...metric(a), alertstate: 'pending' }, values: [[start + a.pendingAt, 1]] },
            ...(a.firingAt !== undefined && start + a.firingAt <= end
              ? [
                  {
                    metric: { ...metric(a), alertstate: 'firing' },
                    values: [[start + a.firingAt, 1]],
                  },
                ]
              : []),
          ]) as never;
        if (q === 'ALERTS_FOR_STATE')
          return seen
            .filter((a) => a.activeAt !== undefined)
            .map((a) => ({
              metric: metric(a),
              values: [[start + a.pendingAt, start + a.activeAt!]],
            })) as never;
        return [];
      };
      return { queries, startSec: () => startSec };
    }

    /** The file's `alerts: { run: … }`; the settle pause puts the judgement 10 s after the start. */
    const alerting = (expected: string, alerts?: Record<string, unknown>, quiescence = {}) =>
      experiment({
        expected,
        ...(alerts ? { alerts: { run: alerts } } : {}),
        'steady-state-hypothesis': {
          title: 't',
          probes: [{ name: 'counted', type: 'audit', figure: 'events', tolerance: { eq: 3 } }],
        },
        quiescence: { settleMs: 10_000, ...quiescence },
      });

    it('passes when the expected alert fires, without waiting', async () => {
      const f = fakes();
      const sleeps: number[] = [];
      const sleep = f.deps.clock.sleep;
      f.deps.clock.sleep = async (ms) => (sleeps.push(ms), sleep(ms));
      const prom = withAlerts(f, [
        { name: 'LabEventsNotPublished', pendingAt: 2, firingAt: 4, labels: {} },
      ]);
      const r = await run(alerting('reproduced', { firing: ['LabEventsNotPublished'] }), f.deps);
      expect(r.outcome).to.equal('completed');
      const probe = r.probes.find((p) => p.type === 'alert');
      expect(probe).to.deep.include({
        name: 'alert LabEventsNotPublished fires',
        expected: 'firing',
        observed: 1,
        ok: true,
      });
      expect(probe?.detail).to.equal('firing at +4.0 s after the run start');
      expect(prom.startSec()).to.equal(r.window.startSec); // from the run's reset, not before it
      expect(sleeps.filter((ms) => ms === 2000)).to.deep.equal([]);
      expect(r.alerts).to.have.length(1);
      expect(r.alerts[0]).to.deep.include({
        alertname: 'LabEventsNotPublished',
        state: 'firing',
        expectation: 'expected',
      });
      expect(r.alertExpectations?.firing).to.deep.equal(['LabEventsNotPublished']);
    });

    it('waits for an expected alert up to alertWaitMs, then deviates', async () => {
      const f = fakes();
      const prom = withAlerts(f, [{ name: 'LabEventsNotPublished', pendingAt: 1 }]); // pending, never firing
      const r = await run(
        alerting('reproduced', { firing: ['LabEventsNotPublished'] }, { alertWaitMs: 10_000 }),
        f.deps,
      );
      expect(r.outcome).to.equal('deviated');
      const probe = r.probes.find((p) => p.type === 'alert');
      expect(probe).to.deep.include({ observed: 0, ok: false });
      expect(probe?.detail).to.match(
        /^not firing by \+\d+\.\d s after the run start \(pending at \+1\.0 s\)$/,
      );
      // Read once, then every 2 s for 10 s: six reads of ALERTS.
      expect(prom.queries.filter((q) => q === 'ALERTS')).to.have.length(6);
    });

    it('counts a detection that comes during the wait', async () => {
      const f = fakes();
      // The alerts are first read 10 s after the start: firing at +15 s, during the wait.
      withAlerts(f, [{ name: 'LabEventsNotPublished', pendingAt: 0, firingAt: 15 }]);
      const r = await run(alerting('reproduced', { firing: ['LabEventsNotPublished'] }), f.deps);
      expect(r.outcome).to.equal('completed');
    });

    it('does not count an alert left over from another run (its run label, or unlabelled and active before the start)', async () => {
      const f = fakes();
      withAlerts(f, [
        {
          name: 'LabEventsNotPublished',
          pendingAt: 0,
          firingAt: 0,
          labels: { run: 'e-950-s1-0a0b0c' },
        },
        { name: 'LabEventsNotPublished', pendingAt: 0, firingAt: 0, activeAt: -300 },
        {
          name: 'LabDlqGrowing',
          severity: 'warning',
          pendingAt: 0,
          firingAt: 0,
          labels: { topic: 'lab.exp.e-950-s1-0a0b0c.DLQ' },
        },
      ]);
      const r = await run(
        alerting('controlled', { firing: ['LabEventsNotPublished'] }, { alertWaitMs: 0 }),
        f.deps,
      );
      expect(r.outcome).to.equal('deviated');
      expect(r.probes.find((p) => p.name === 'alert LabEventsNotPublished fires')).to.deep.include({
        ok: false,
        observed: 0,
      });
      expect(
        r.probes.find((p) => p.name === 'no unexpected alert at warning or above')?.ok,
      ).to.equal(true);
      expect(r.alerts).to.deep.equal([]);
    });

    it('fails a ✅ side on an unexpected warning, naming it; a tolerated one passes', async () => {
      const f = fakes();
      withAlerts(f, [
        {
          name: 'LabKafkaIsrShrinks',
          severity: 'warning',
          pendingAt: 3,
          firingAt: 3,
          labels: { broker: '2' },
          activeAt: 3,
        },
        {
          name: 'LabKafkaUnderReplicatedPartitions',
          severity: 'warning',
          pendingAt: 3,
          firingAt: 8,
          labels: { broker: '1' },
          activeAt: 3,
        },
      ]);
      const noisy = await run(
        alerting('controlled', { tolerated: ['LabKafkaUnderReplicatedPartitions'] }),
        f.deps,
      );
      expect(noisy.outcome).to.equal('deviated');
      const probe = noisy.probes.find((p) => p.type === 'alert');
      expect(probe).to.deep.include({
        name: 'no unexpected alert at warning or above',
        observed: 1,
        ok: false,
      });
      expect(probe?.detail).to.equal('unexpected: LabKafkaIsrShrinks (warning, firing at +3.0 s)');
      const quiet = await run(
        alerting('controlled', {
          tolerated: ['LabKafkaUnderReplicatedPartitions', 'LabKafkaIsrShrinks'],
        }),
        f.deps,
      );
      expect(quiet.outcome).to.equal('completed');
      expect(quiet.alerts.map((a) => a.expectation)).to.deep.equal(['tolerated', 'tolerated']);
    });

    it('fails the alert judgements when Prometheus cannot be queried for ALERTS', async () => {
      const f = fakes();
      f.deps.prometheus.range = async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:19090');
      };
      const r = await run(alerting('controlled', {}), f.deps);
      expect(r.outcome).to.equal('deviated');
      expect(r.probes.find((p) => p.type === 'alert')).to.deep.include({
        observed: null,
        ok: false,
        detail: 'ALERTS not read from Prometheus: connect ECONNREFUSED 127.0.0.1:19090',
      });
      // A ❌ side that names no alert has nothing to judge: the same error only goes to the timeline.
      const bare = await run(alerting('reproduced'), f.deps);
      expect(bare.outcome).to.equal('completed');
      expect(bare.timeline.map((t) => t.what)).to.include(
        'alerts not read from Prometheus: connect ECONNREFUSED 127.0.0.1:19090',
      );
    });
  });
});
