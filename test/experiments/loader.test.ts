import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findRoot } from '../../src/lib/config';
import {
  findExperiment,
  InvalidExperimentError,
  listExperimentFiles,
  loadExperimentFile,
  sidesOf,
  UnknownExperimentError,
} from '../../src/experiments/loader';

const VALID = `id: E-900
title: A valid test experiment
description: used by the loader tests only
expected: reproduced
configuration:
  commands: { value: 20, env: LAB_T_COMMANDS }
services:
  command-service: { modes: { COMMAND_MODE: direct } }
workload:
  kind: commands
  commands: \${commands}
  products: 5
method:
  - name: crash
    at: start
    fault: { type: failpoint, service: command-service, failpoint: command.after-commit-before-produce, action: crash, after: 3 }
steady-state-hypothesis:
  title: loses
  probes:
    - { name: lost, type: audit, figure: lostBeforeTopic, tolerance: { gt: 0 } }
`;

function write(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-exp-'));
  fs.mkdirSync(path.join(dir, 'E-900-test'));
  const file = path.join(dir, 'E-900-test', 'experiment.yaml');
  fs.writeFileSync(file, text);
  return file;
}

function problemsOf(text: string): string[] {
  try {
    loadExperimentFile(write(text), {});
  } catch (e) {
    expect(e).to.be.instanceOf(InvalidExperimentError);
    return (e as InvalidExperimentError).problems;
  }
  throw new Error('expected the file to be rejected');
}

describe('experiment loader', () => {
  it('loads every experiment shipped in experiments/', () => {
    const root = findRoot();
    const files = listExperimentFiles(root);
    expect(files.map((f) => f.id)).to.include.members([
      'E-001',
      'E-002',
      'E-003',
      'E-004',
      'E-005',
    ]);
    for (const f of files)
      for (const side of sidesOf(f.file))
        expect(() => loadExperimentFile(f.file, {}, side), `${f.id} ${side}`).to.not.throw();
  });

  it('substitutes configuration values, overridable from the environment', () => {
    const file = write(VALID);
    expect(loadExperimentFile(file, {}).experiment.workload.commands).to.equal(20);
    expect(loadExperimentFile(file, { LAB_T_COMMANDS: '7' }).experiment.workload.commands).to.equal(
      7,
    );
    expect(() => loadExperimentFile(file, { LAB_T_COMMANDS: 'many' })).to.throw(
      /LAB_T_COMMANDS=many is not a number/,
    );
  });

  it('rejects an unknown fault type, naming the line and the valid types', () => {
    const p = problemsOf(VALID.replace('type: failpoint', 'type: meteor'));
    expect(p.join('\n')).to.match(
      /line 16: method\.0\.fault\.type.*(unknown type|expected one of).*failpoint/,
    );
  });

  it('rejects a counterfactual block whose workload parameters the kind does not have', () => {
    const text = `${VALID}counterfactual:\n  why: the crash is the cause, not the commands\n  workload: { meteors: 3 }\n`;
    expect(problemsOf(text).join('\n')).to.match(/counterfactual\.workload.*meteors/);
  });

  it('rejects a missing steady-state hypothesis', () => {
    const text = VALID.slice(0, VALID.indexOf('steady-state-hypothesis'));
    expect(problemsOf(text).join('\n')).to.match(/steady-state-hypothesis: is required/);
  });

  it('reports every problem at once, each with its line', () => {
    const p = problemsOf(
      VALID.replace('expected: reproduced', 'expected: maybe')
        .replace('products: 5', 'products: -1')
        .replace('failpoint: command.after-commit-before-produce', 'failpoint: nope'),
    );
    expect(p).to.have.length(3);
    expect(p.join('\n'))
      .to.match(/line 4: expected/)
      .and.match(/line 12: workload\.products/)
      .and.match(/failpoint.*"nope" is not valid/);
  });

  it('rejects a failpoint on a service the experiment does not run', () => {
    const p = problemsOf(
      VALID.replace(
        'service: command-service, failpoint',
        'service: consumer-service, failpoint',
      ).replace(
        'failpoint: command.after-commit-before-produce',
        'failpoint: consumer.after-commit-before-process',
      ),
    );
    expect(p.join('\n')).to.match(/consumer-service is not among this experiment's services/);
  });

  it('rejects broken YAML with its line', () => {
    expect(problemsOf(VALID.replace('title: A valid', 'title: [unclosed')).join('\n')).to.match(
      /line \d+: YAML/,
    );
  });

  it('rejects an unknown experiment id with the known ones', () => {
    expect(() => findExperiment(findRoot(), 'E-777')).to.throw(
      UnknownExperimentError,
      /known: E-001, E-002/,
    );
  });
  describe('workload kinds', () => {
    const TRANSACTIONS = VALID.replace(
      /services:[\s\S]*?steady/,
      'workload:\n  kind: transactions\n  committedTransactions: 2\nsteady',
    )
      .replace('expected: reproduced', 'expected: controlled')
      .replace(
        'figure: lostBeforeTopic, tolerance: { gt: 0 }',
        'figure: appliedEvents, tolerance: { eq: audit.committedEvents }',
      )
      .replace(
        'probes:\n',
        'probes:\n    - { name: open, type: audit, figure: hwMinusLsoWhileOpen, tolerance: { gt: 0 } }\n',
      );

    it('accepts another kind, with that kind\u2019s figures in probes', () => {
      const e = loadExperimentFile(write(TRANSACTIONS), {}).experiment;
      expect(e.workload).to.deep.include({ kind: 'transactions', committedTransactions: 2 });
    });

    it('rejects an unknown kind with the registered ones, bad parameters with their line, and figures the kind does not produce', () => {
      expect(
        problemsOf(TRANSACTIONS.replace('kind: transactions', 'kind: nope')).join('\n'),
      ).to.match(
        /workload\.kind: unknown workload kind; expected one of commands, transactions, cache-stampede, durability-matrix/,
      );
      expect(
        problemsOf(
          TRANSACTIONS.replace('committedTransactions: 2', 'committedTransactions: 0'),
        ).join('\n'),
      ).to.match(/line \d+: workload\.committedTransactions/);
      expect(
        problemsOf(
          TRANSACTIONS.replace('committedTransactions: 2', 'committedTransaction: 2'),
        ).join('\n'),
      ).to.match(/unknown field\(s\) committedTransaction/);
      expect(
        problemsOf(TRANSACTIONS.replace('figure: appliedEvents', 'figure: committed')).join('\n'),
      ).to.match(/figure committed is not a known audit figure of workload transactions/);
    });

    it('rejects a file without a workload', () => {
      expect(problemsOf(VALID.replace(/workload:\n.*\n.*\n.*\n/, '')).join('\n')).to.match(
        /workload: is required/,
      );
    });

    it('rejects a step at a moment the kind does not have, and command-stream timing on another kind', () => {
      const withStep = (at: string) =>
        TRANSACTIONS.replace(
          'steady',
          `method:\n  - { name: slow, at: ${at}, fault: { type: replay } }\nsteady`,
        );
      expect(problemsOf(withStep('{ moment: storm }')).join('\n')).to.match(
        /at\.moment "storm" is not a moment of workload transactions/,
      );
      expect(problemsOf(withStep('{ afterCommands: 3 }')).join('\n')).to.match(
        /afterCommands \/ afterMs belong to the commands workload/,
      );
    });

    it('rejects a query label the kind does not export', async () => {
      const { unknownPlaceholders } = await import('../../src/experiments/verdict');
      expect(
        unknownPlaceholders('sum(x{run="$RUN",key=~"$NONE_KEYS"}[$WINDOW])', {
          NONE_KEYS: '1[0-9]{5}',
        }),
      ).to.deep.equal([]);
      expect(
        unknownPlaceholders('sum(x{key=~"$NONE_KEY"})', { NONE_KEYS: '1[0-9]{5}' }),
      ).to.deep.equal(['NONE_KEY']);
    });
  });

  describe('evidence', () => {
    /** VALID with its one probe's tolerance (and more of it) replaced: the probe is on line 20. */
    const only = (rest: string, expected = 'reproduced') =>
      VALID.replace('expected: reproduced', `expected: ${expected}`).replace(
        'figure: lostBeforeTopic, tolerance: { gt: 0 } }',
        `${rest} }`,
      );
    const PROMQL = 'type: promql, query: "sum(lab_command_commits_total)"';
    const gap = (text: string) =>
      problemsOf(text).find((p) => p.includes('steady-state-hypothesis.probes:')) ?? '';

    it('accepts `gt: 0` on an audit figure or a series, and `eq` against a fact the steps must raise', () => {
      for (const ok of [
        'figure: lostBeforeTopic, tolerance: { gt: 0 }',
        'figure: lostBeforeTopic, tolerance: { eq: facts.failpointsFired }',
        'figure: lostBeforeTopic, tolerance: { between: [1, 9] }',
      ])
        expect(() => loadExperimentFile(write(only(ok)), {}), ok).not.to.throw();
      const promql = only('figure: lostBeforeTopic, tolerance: { eq: 0 }').replace(
        'type: audit, figure: lostBeforeTopic, tolerance: { eq: 0 }',
        `${PROMQL}, tolerance: { gt: 0 }`,
      );
      expect(() => loadExperimentFile(write(promql), {})).not.to.throw();
    });

    it('rejects `ge: audit.x`, met when both are 0, naming the side, the probe\u2019s line and what counts', () => {
      expect(gap(only('figure: lostBeforeTopic, tolerance: { ge: audit.committed }'))).to.equal(
        'line 20: steady-state-hypothesis.probes: this experiment has no probe that shows the anomaly really happened — each passes on an idle run. ' +
          'Counts: `gt: 0` on an audit figure or a PromQL series the fault causes, or `eq`/`ge` against facts.failpointsFired (what its steps must raise). ' +
          'Not evidence: "lost" (line 20): ge: audit.committed holds at 0 (audit.committed may be 0 too)',
      );
    });

    it('rejects `eq: facts.crashes` when no step must raise crashes (0 = 0 if the fault never fired)', () => {
      expect(
        gap(only('figure: lostBeforeTopic, tolerance: { eq: facts.crashes }', 'controlled')),
      ).to.match(
        /^line 20: .*has no probe that shows its fault really struck.*"lost" \(line 20\): eq: facts\.crashes holds at 0 \(facts\.crashes is no fact this side's steps must raise/,
      );
    });

    it('rejects `between: [0, …]`', () => {
      expect(gap(only('figure: lostBeforeTopic, tolerance: { between: [0, 9] }'))).to.match(
        /"lost" \(line 20\): between: \[0, 9\] holds at 0$/,
      );
    });

    it('rejects a probe that passes on its absent.value, with no series at all', () => {
      const absent = (value: number) =>
        only('figure: lostBeforeTopic, tolerance: { eq: 0 }').replace(
          'type: audit, figure: lostBeforeTopic, tolerance: { eq: 0 }',
          `${PROMQL}, tolerance: { ge: 1 }, absent: { value: ${value}, reason: "no series until a commit" }`,
        );
      expect(gap(absent(1))).to.match(
        /"lost" \(line 20\): ge: 1 holds for absent\.value 1, with no series$/,
      );
      expect(() => loadExperimentFile(write(absent(0)), {}), 'absence fails it').not.to.throw();
    });

    it('refuses "or vector(0)" in any spacing, "or on() vector(0)" too, and asks for a declared absent value', () => {
      for (const or of ['or vector(0)', 'or on() vector(0)', 'OR on (run)\\n  vector (0)']) {
        const promql = VALID.replace(
          'probes:\n',
          `probes:\n    - { name: q, type: promql, query: "sum(lab_command_commits_total) ${or}", tolerance: { gt: 0 } }\n`,
        );
        expect(problemsOf(promql).join('\n'), or).to.match(
          /"or vector\(…\)" turns "no data" into a number; declare `absent/,
        );
      }
      const short = VALID.replace(
        'probes:\n',
        `probes:\n    - { name: q, ${PROMQL}, tolerance: { eq: 0 }, absent: { value: 0, reason: "x" } }\n`,
      );
      expect(problemsOf(short).join('\n')).to.match(/say why an absent series means this value/);
    });

    it('does not count a series made up from no data (or … vector(…), absent(…)) as evidence', () => {
      for (const query of ['sum(x) or on() vector(1)', 'absent(lab_command_commits_total)']) {
        const text = only('figure: lostBeforeTopic, tolerance: { eq: 0 }').replace(
          'type: audit, figure: lostBeforeTopic, tolerance: { eq: 0 }',
          `type: promql, query: "${query}", tolerance: { gt: 0 }`,
        );
        expect(gap(text), query).to.match(
          /"lost" \(line 20\): its query makes a value out of no data/,
        );
      }
    });
  });

  describe('service env', () => {
    it('refuses a variable that is not the service\u2019s own setting, naming the allowed ones', () => {
      const p = problemsOf(
        VALID.replace(
          '{ modes: { COMMAND_MODE: direct } }',
          '{ modes: { COMMAND_MODE: direct }, env: { NODE_OPTIONS: "--require /tmp/x.js" } }',
        ),
      );
      expect(p.join('\n'))
        .to.match(
          /services\.command-service\.env\.NODE_OPTIONS is not a setting of command-service \(it changes how the process runs/,
        )
        .and.match(/allowed are /);
    });

    it('refuses the isolation keys the engine sets per run, in a service\u2019s env and a step\u2019s', () => {
      const p = problemsOf(
        VALID.replace(
          '{ modes: { COMMAND_MODE: direct } }',
          '{ modes: { COMMAND_MODE: direct }, env: { LAB_TOPIC: lab.exp.other } }',
        ).replace(
          'method:\n',
          'method:\n  - { name: deploy, at: quiescence, fault: { type: service, action: restart, service: command-service, env: { QUERY_CACHE_PREFIX: "lab:query:" } } }\n',
        ),
      );
      expect(p).to.include.members([
        'services.command-service.env.LAB_TOPIC: the engine sets LAB_TOPIC for each run, to keep runs apart (their topics, groups, caches and metrics); remove it from the file',
        'method.0.fault.env.QUERY_CACHE_PREFIX: the engine sets QUERY_CACHE_PREFIX for each run, to keep runs apart (their topics, groups, caches and metrics); remove it from the file',
      ]);
    });

    it('reads only LAB_* variables into configuration, naming the line', () => {
      const file = write(VALID.replace('env: LAB_T_COMMANDS', 'env: HOME'));
      expect(() => loadExperimentFile(file, { HOME: '/root' })).to.throw(
        /line 6: configuration\.commands\.env: HOME is not a LAB_\* variable; an experiment reads only LAB_\* overrides \(name it LAB_HOME\)/,
      );
    });

    it('refuses LD_PRELOAD in a step\u2019s env too', () => {
      const p = problemsOf(
        VALID.replace(
          'method:\n',
          'method:\n  - { name: deploy, at: quiescence, fault: { type: service, action: restart, service: command-service, env: { LD_PRELOAD: /tmp/evil.so } } }\n',
        ),
      );
      expect(p.join('\n')).to.match(
        /method\.0\.fault\.env\.LD_PRELOAD is not a setting of any lab service/,
      );
    });
  });

  describe('with two sides (side + pair)', () => {
    const PAIRED = VALID.replace(
      'expected: reproduced\n',
      `expected: reproduced
side: anti-pattern
pair:
  side: pattern
  title: The pattern side of the test experiment
  expected: controlled
  configuration: { mode: outbox }
`,
    )
      .replace('configuration:\n', 'configuration:\n  mode: { value: direct, env: LAB_T_MODE }\n')
      .replace('COMMAND_MODE: direct', 'COMMAND_MODE: "${mode}"')
      .replace(
        '    - { name: lost, type: audit, figure: lostBeforeTopic, tolerance: { gt: 0 } }',
        `    - { name: lost, side: anti-pattern, type: audit, figure: lostBeforeTopic, tolerance: { gt: 0 } }
    - { name: none lost, side: pattern, type: audit, figure: lostBeforeTopic, tolerance: { lt: facts.failpointsFired } }
    - { name: crashes struck, side: pattern, type: audit, figure: published, tolerance: { ge: facts.failpointsFired } }
    - { name: applied, type: audit, figure: applied, tolerance: { eq: audit.committed } }`,
      );

    it("loads the file's own side by default, and the pair's values, title and expectation with --side", () => {
      const file = write(PAIRED);
      const own = loadExperimentFile(file, {});
      expect(own.side).to.equal('anti-pattern');
      expect(own.experiment.expected).to.equal('reproduced');
      expect(own.experiment.services['command-service']?.modes).to.deep.equal({
        COMMAND_MODE: 'direct',
      });
      const other = loadExperimentFile(file, {}, 'pattern');
      expect(other.side).to.equal('pattern');
      expect(other.experiment.expected).to.equal('controlled');
      expect(other.experiment.title).to.equal('The pattern side of the test experiment');
      expect(other.experiment.services['command-service']?.modes).to.deep.equal({
        COMMAND_MODE: 'outbox',
      });
      expect(other.experiment.workload.commands, 'the same workload').to.equal(
        own.experiment.workload.commands,
      );
      expect(other.experiment.method, 'the same fault schedule').to.deep.equal(
        own.experiment.method,
      );
    });

    it('judges each side by the shared probes and its own', () => {
      const names = (side: 'anti-pattern' | 'pattern') =>
        loadExperimentFile(write(PAIRED), {}, side).experiment[
          'steady-state-hypothesis'
        ].probes.map((p) => p.name);
      expect(names('anti-pattern')).to.deep.equal(['lost', 'applied']);
      expect(names('pattern')).to.deep.equal(['none lost', 'crashes struck', 'applied']);
    });

    it('requires evidence of each side, naming the side that has none', () => {
      const bare = PAIRED.replace(/ {4}- \{ name: crashes struck.*\n/, '');
      const file = write(bare);
      expect(() => loadExperimentFile(file, {}), 'the anti-pattern side').not.to.throw();
      expect(() => loadExperimentFile(file, {}, 'pattern')).to.throw(
        /line \d+: steady-state-hypothesis\.probes: the pattern side has no probe that shows its fault really struck/,
      );
    });

    it('lets an explicit environment value win over the side', () => {
      const other = loadExperimentFile(write(PAIRED), { LAB_T_MODE: 'direct' }, 'pattern');
      expect(other.experiment.services['command-service']?.modes).to.deep.equal({
        COMMAND_MODE: 'direct',
      });
    });

    it('refuses a side the file does not show, and a pair value not in configuration', () => {
      const file = write(VALID);
      expect(() => loadExperimentFile(file, {}, 'pattern')).to.throw(
        /--side pattern: this experiment shows one side only/,
      );
      const p = (() => {
        try {
          loadExperimentFile(
            write(PAIRED.replace('{ mode: outbox }', '{ mdoe: outbox }')),
            {},
            'pattern',
          );
        } catch (e) {
          return (e as InvalidExperimentError).problems;
        }
        return [];
      })();
      expect(p.join('\n')).to.match(/pair\.configuration\.mdoe is not defined in configuration/);
    });

    it('refuses a probe with a side in a file without sides, and a pair without its own side', () => {
      expect(
        problemsOf(
          VALID.replace('{ name: lost, type: audit', '{ name: lost, side: pattern, type: audit'),
        ).join('\n'),
      ).to.match(/a probe names a `side:`, but the file declares none/);
      expect(problemsOf(PAIRED.replace('side: anti-pattern\npair:', 'pair:')).join('\n')).to.match(
        /pair: needs `side:` at the top level/,
      );
    });

    describe('alerts:', () => {
      /** A repository root whose prometheus/rules/ holds these alerts (name → severity). */
      function rulesRoot(alerts: Record<string, string>): string {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-rules-'));
        fs.mkdirSync(path.join(root, 'prometheus', 'rules'), { recursive: true });
        const rules = Object.entries(alerts)
          .map(
            ([name, severity]) =>
              `      - alert: ${name}\n        expr: vector(1)\n        labels: { severity: ${severity} }`,
          )
          .join('\n');
        fs.writeFileSync(
          path.join(root, 'prometheus', 'rules', 'lab.yml'),
          `groups:\n  - name: g\n    rules:\n${rules}\n`,
        );
        return root;
      }
      const ROOT = rulesRoot({
        LabEventsNotPublished: 'critical',
        LabKafkaIsrShrinks: 'warning',
        LabConsumerRedeliveries: 'info',
      });
      const withAlerts = (base: string, block: string) => `${base}alerts:\n${block}`;
      const problems = (text: string, side?: 'anti-pattern' | 'pattern') => {
        try {
          loadExperimentFile(write(text), {}, side, ROOT);
        } catch (e) {
          expect(e).to.be.instanceOf(InvalidExperimentError);
          expect((e as InvalidExperimentError).exitCode).to.equal(2);
          return (e as InvalidExperimentError).problems;
        }
        throw new Error('expected the file to be rejected');
      };
      const SIDED = withAlerts(
        PAIRED,
        `  anti-pattern:
    firing: [LabEventsNotPublished]
  pattern:
    silent: [LabEventsNotPublished]
    tolerated: [LabKafkaIsrShrinks]
`,
      );

      it("keeps the loaded side's expectations only, the lists defaulting to []", () => {
        const anti = loadExperimentFile(write(SIDED), {}, undefined, ROOT).experiment.alerts;
        expect(anti).to.deep.equal({
          'anti-pattern': { firing: ['LabEventsNotPublished'], silent: [], tolerated: [] },
        });
        const pat = loadExperimentFile(write(SIDED), {}, 'pattern', ROOT).experiment.alerts;
        expect(pat).to.deep.equal({
          pattern: {
            firing: [],
            silent: ['LabEventsNotPublished'],
            tolerated: ['LabKafkaIsrShrinks'],
          },
        });
        const run = withAlerts(VALID, '  run: { firing: [LabEventsNotPublished] }\n');
        expect(
          loadExperimentFile(write(run), {}, undefined, ROOT).experiment.alerts?.run?.firing,
        ).to.deep.equal(['LabEventsNotPublished']);
      });

      it('refuses an alert no rule defines, with its line and the valid names', () => {
        const p = problems(
          SIDED.replace('tolerated: [LabKafkaIsrShrinks]', 'tolerated: [LabKafkaIsrShrink]'),
        );
        expect(p).to.have.length(1);
        expect(p[0]).to.match(
          /^line \d+: alerts\.pattern\.tolerated: "LabKafkaIsrShrink" is not an alert of prometheus\/rules\/\*\.yml; valid: LabConsumerRedeliveries, LabEventsNotPublished, LabKafkaIsrShrinks$/,
        );
      });

      it('requires a ❌ side to be caught by a `firing` alert at warning or above', () => {
        const info = SIDED.replace(
          'firing: [LabEventsNotPublished]',
          'firing: [LabConsumerRedeliveries]',
        );
        expect(problems(info).join('\n')).to.match(
          /alerts\.anti-pattern\.firing: a ❌ side must be caught by an alert at warning or above — name one it fires \(LabEventsNotPublished, LabKafkaIsrShrinks\)/,
        );
        // Whichever side is loaded: the whole file is checked.
        const missing = withAlerts(PAIRED, '  pattern: { tolerated: [LabKafkaIsrShrinks] }\n');
        expect(problems(missing, 'pattern').join('\n')).to.match(
          /alerts\.anti-pattern\.firing: a ❌ side must be caught/,
        );
      });

      it('refuses a key that is not a side of the file, and a name in two lists', () => {
        expect(
          problems(withAlerts(VALID, '  pattern: { firing: [LabEventsNotPublished] }\n')).join(
            '\n',
          ),
        ).to.match(/alerts\.pattern: this file shows run \(no sides: the key is `run`\)/);
        const twice = SIDED.replace(
          'tolerated: [LabKafkaIsrShrinks]',
          'tolerated: [LabEventsNotPublished]',
        );
        expect(problems(twice).join('\n')).to.match(
          /alerts\.pattern: "LabEventsNotPublished" is both silent and tolerated/,
        );
        expect(
          problems(
            withAlerts(VALID, '  run: { firing: [LabEventsNotPublished], flaky: [] }\n'),
          ).join('\n'),
        ).to.match(/alerts\.run: unknown field\(s\) flaky/);
      });
    });
  });
});
