import { expect } from 'chai';
import { evidenceProblem, requiredFacts, whyNoEvidence } from '../../src/experiments/evidence';
import { ProbeSchema, StepSchema, type Probe, type Step } from '../../src/experiments/schema';

const step = (fault: Record<string, unknown>, at: unknown = 'start'): Step =>
  StepSchema.parse({ name: String(fault.type), at, fault });
const audit = (tolerance: unknown): Probe =>
  ProbeSchema.parse({ name: 'p', type: 'audit', figure: 'lost', tolerance });
const promql = (query: string, tolerance: unknown, absent?: number): Probe =>
  ProbeSchema.parse({
    name: 'p',
    type: 'promql',
    query,
    tolerance,
    ...(absent === undefined
      ? {}
      : { absent: { value: absent, reason: 'no series until it counts' } }),
  });
const FAILPOINT = step({
  type: 'failpoint',
  service: 'consumer-service',
  failpoint: 'consumer.after-commit-before-process',
  action: 'crash',
});
const counts = (probe: Probe, required: string[] = []) =>
  whyNoEvidence(probe, new Set(required)) === undefined;

describe('evidence gate', () => {
  describe('requiredFacts', () => {
    it('requires failpointsFired of a failpoint step, though the kind declares no fact', () => {
      expect(requiredFacts([FAILPOINT])).to.deep.equal(['failpointsFired']);
    });

    it('requires what a fault kind always raises, at start or timed, each fact once', () => {
      const steps = [
        step({ type: 'latency', proxy: 'mysql', latencyMs: 100 }),
        step({ type: 'proxy-down', proxy: 'redis' }, { afterCommands: 5 }),
        step({ type: 'redis-cluster-node', action: 'kill', node: 2 }, { moment: 'kill-master' }),
        step({ type: 'redis-cluster-reshard', slots: 10 }, 'quiescence'),
        FAILPOINT,
        FAILPOINT,
      ];
      expect(requiredFacts(steps)).to.deep.equal([
        'failpointsFired',
        'clusterNodeKills',
        'slotsMoved',
        'toxicsAdded',
      ]);
    });

    it('requires brokerKills of a broker kill only, not of a pause, resume or restart', () => {
      expect(requiredFacts([step({ type: 'broker', action: 'kill', broker: 1 })])).to.deep.equal([
        'brokerKills',
      ]);
      for (const action of ['pause', 'resume', 'restart'])
        expect(requiredFacts([step({ type: 'broker', action, broker: 1 })]), action).to.be.empty;
    });

    it('requires replays of a real replay, not of a dry run', () => {
      expect(requiredFacts([step({ type: 'replay', times: 2 })])).to.deep.equal(['replays']);
      expect(requiredFacts([step({ type: 'replay', dryRun: true })])).to.be.empty;
    });

    it('requires nothing of actions whose facts are answers: registry calls and service restarts', () => {
      const actions = [
        step({ type: 'registry-register', schema: 'v2-breaking' }),
        step({ type: 'registry-set-compatibility', level: 'BACKWARD' }),
        step({ type: 'service', action: 'restart', service: 'consumer-service' }),
        step({ type: 'service', action: 'crash', service: 'consumer-service' }),
      ];
      expect(requiredFacts(actions)).to.be.empty;
    });
  });

  describe('what counts as evidence', () => {
    it('counts `gt: 0` on an audit figure or a series, and a lower bound of 1 or more', () => {
      expect(counts(audit({ gt: 0 }))).to.equal(true);
      expect(counts(promql('sum(x{run="$RUN"})', { gt: 0 }))).to.equal(true);
      expect(counts(audit({ gt: 'audit.committed' })), 'x > y ≥ 0').to.equal(true);
      expect(counts(audit({ ge: 1 }))).to.equal(true);
      expect(counts(audit({ between: [1, 5] }))).to.equal(true);
    });

    it('counts `eq`/`ge` against a fact only when the steps must raise it', () => {
      expect(counts(audit({ eq: 'facts.crashes' }), ['failpointsFired'])).to.equal(false);
      expect(counts(audit({ eq: 'facts.failpointsFired' }), ['failpointsFired'])).to.equal(true);
      expect(counts(audit({ ge: 'facts.brokerKills' }), ['brokerKills'])).to.equal(true);
      expect(counts(audit({ ge: 'facts.brokerKills' }), [])).to.equal(false);
    });

    it('does not count `ge: audit.x`, `between: [0, …]`, `lt`/`le` or `eq: 0`', () => {
      for (const t of [
        { ge: 'audit.committed' },
        { eq: 'audit.committed' },
        { between: [0, 9] },
        { lt: 'facts.failpointsFired' },
        { le: 3 },
        { eq: 0 },
      ])
        expect(counts(audit(t), ['failpointsFired']), JSON.stringify(t)).to.equal(false);
    });

    it('does not count a probe its absent.value would pass; one that absence fails still counts', () => {
      expect(whyNoEvidence(promql('sum(x)', { gt: 0 }, 1), new Set())?.why).to.equal(
        'gt: 0 holds for absent.value 1, with no series',
      );
      expect(counts(promql('sum(x)', { eq: 1 }, 0))).to.equal(true);
    });

    it('does not count a query that makes a value out of no data, in any spacing', () => {
      for (const q of [
        'sum(x) or vector(0)',
        'sum(x) or on() vector(1)',
        'sum(x)\n  OR on (run)\n  vector (1)',
        'absent(x{run="$RUN"})',
        'absent_over_time(x[5m])',
      ])
        expect(whyNoEvidence(promql(q, { gt: 0 }), new Set())?.why, q).to.match(
          /makes a value out of no data/,
        );
      expect(
        counts(promql('sum(vector_total)', { gt: 0 })),
        'a metric name is no vector(',
      ).to.equal(true);
    });
  });

  describe('evidenceProblem', () => {
    it('passes a side with one evidence probe among others', () => {
      const probes = [audit({ eq: 0 }), audit({ gt: 0 })].map((probe) => ({ probe }));
      expect(evidenceProblem({ expected: 'controlled', steps: [], probes })).to.equal(undefined);
    });

    it('names the side, what would count with its required facts, and each near miss with its line', () => {
      const probes = [
        { probe: audit({ eq: 0 }), line: 40 },
        { probe: { ...audit({ eq: 'facts.crashes' }), name: 'crashes' }, line: 41 },
      ];
      const problem = evidenceProblem(
        { side: 'pattern', expected: 'controlled', steps: [FAILPOINT], probes },
        'line 39: ',
      );
      expect(problem).to.equal(
        'line 39: steady-state-hypothesis.probes: the pattern side has no probe that shows its fault really struck — each passes on an idle run. ' +
          'Counts: `gt: 0` on an audit figure or a PromQL series the fault causes, or `eq`/`ge` against facts.failpointsFired (what its steps must raise). ' +
          `Not evidence: "crashes" (line 41): eq: facts.crashes holds at 0 (facts.crashes is no fact this side's steps must raise, so it may be 0 too)`,
      );
    });
  });
});
