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
    for (const f of files) expect(() => loadExperimentFile(f.file, {}), f.file).to.not.throw();
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
    it('requires a reproduced experiment to have a probe that the anomaly happened', () => {
      expect(problemsOf(VALID.replace('{ gt: 0 }', '{ eq: 0 }')).join('\n')).to.match(
        /a reproduced experiment needs a probe that the anomaly happened/,
      );
    });

    it('requires a controlled experiment to have a probe that its fault struck', () => {
      const controlled = VALID.replace('expected: reproduced', 'expected: controlled').replace(
        '{ gt: 0 }',
        '{ eq: 0 }',
      );
      expect(problemsOf(controlled).join('\n')).to.match(
        /a controlled experiment needs a probe that its fault really struck/,
      );
      expect(() =>
        loadExperimentFile(write(controlled.replace('{ eq: 0 }', '{ eq: facts.crashes }')), {}),
      ).not.to.throw();
    });

    it('refuses "or vector(0)" and asks for a declared absent value with its reason', () => {
      const promql = VALID.replace(
        'probes:\n',
        'probes:\n    - { name: q, type: promql, query: "sum(lab_command_commits_total) or vector(0)", tolerance: { eq: 0 } }\n',
      );
      expect(problemsOf(promql).join('\n')).to.match(
        /"or vector\(…\)" turns "no data" into a number; declare `absent/,
      );
      const short = promql
        .replace(' or vector(0)', '')
        .replace(
          'tolerance: { eq: 0 } }',
          'tolerance: { eq: 0 }, absent: { value: 0, reason: "x" } }',
        );
      expect(problemsOf(short).join('\n')).to.match(/say why an absent series means this value/);
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
      expect(names('pattern')).to.deep.equal(['none lost', 'applied']);
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
