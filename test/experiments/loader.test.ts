import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findRoot } from '../../src/lib/config';
import { z } from 'zod';
import { SCENARIOS } from '../../src/experiments/scenarios';
import { findExperiment, InvalidExperimentError, listExperimentFiles, loadExperimentFile, UnknownExperimentError } from '../../src/experiments/loader';

const VALID = `id: E-900
title: A valid test experiment
description: used by the loader tests only
expected: reproduced
configuration:
  commands: { value: 20, env: LAB_T_COMMANDS }
services:
  command-service: { modes: { COMMAND_MODE: direct } }
workload:
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
    expect(files.map((f) => f.id)).to.include.members(['E-001', 'E-002', 'E-003', 'E-004', 'E-005']);
    for (const f of files) expect(() => loadExperimentFile(f.file, {}), f.file).to.not.throw();
  });

  it('substitutes configuration values, overridable from the environment', () => {
    const file = write(VALID);
    expect(loadExperimentFile(file, {}).experiment.workload?.commands).to.equal(20);
    expect(loadExperimentFile(file, { LAB_T_COMMANDS: '7' }).experiment.workload?.commands).to.equal(7);
    expect(() => loadExperimentFile(file, { LAB_T_COMMANDS: 'many' })).to.throw(/LAB_T_COMMANDS=many is not a number/);
  });

  it('rejects an unknown fault type, naming the line and the valid types', () => {
    const p = problemsOf(VALID.replace('type: failpoint', 'type: meteor'));
    expect(p.join('\n')).to.match(/line 15: method\.0\.fault\.type.*(unknown type|expected one of).*failpoint/);
  });

  it('rejects a missing steady-state hypothesis', () => {
    const text = VALID.slice(0, VALID.indexOf('steady-state-hypothesis'));
    expect(problemsOf(text).join('\n')).to.match(/steady-state-hypothesis: is required/);
  });

  it('reports every problem at once, each with its line', () => {
    const p = problemsOf(VALID.replace('expected: reproduced', 'expected: maybe').replace('products: 5', 'products: -1').replace('failpoint: command.after-commit-before-produce', 'failpoint: nope'));
    expect(p).to.have.length(3);
    expect(p.join('\n')).to.match(/line 4: expected/).and.match(/line 11: workload\.products/).and.match(/failpoint.*"nope" is not valid/);
  });

  it('rejects a failpoint on a service the experiment does not run', () => {
    const p = problemsOf(VALID.replace('service: command-service, failpoint', 'service: consumer-service, failpoint').replace('failpoint: command.after-commit-before-produce', 'failpoint: consumer.after-commit-before-process'));
    expect(p.join('\n')).to.match(/consumer-service is not among this experiment's services/);
  });

  it('rejects broken YAML with its line', () => {
    expect(problemsOf(VALID.replace('title: A valid', 'title: [unclosed')).join('\n')).to.match(/line \d+: YAML/);
  });

  it('rejects an unknown experiment id with the known ones', () => {
    expect(() => findExperiment(findRoot(), 'E-777')).to.throw(UnknownExperimentError, /known: E-001, E-002/);
  });
  describe('scenario experiments', () => {
    const SCENARIO = VALID.replace(/services:[\s\S]*?method:/, 'scenario:\n  kind: test-echo\n  messages: 5\nmethod: []\nx-method:').replace(/x-method:[\s\S]*?steady/, 'steady').replace('figure: lostBeforeTopic', 'figure: echoed').replace('{ gt: 0 }', '{ eq: audit.sent }');
    before(() => {
      SCENARIOS['test-echo'] = { kind: 'test-echo', summary: 'echo', figures: ['sent', 'echoed'], params: z.object({ messages: z.number().int().min(1) }).strict(), run: async () => ({ figures: { sent: 1, echoed: 1 } }) };
    });
    after(() => delete SCENARIOS['test-echo']);

    it('accepts a scenario block instead of workload, with the scenario figures in probes', () => {
      const e = loadExperimentFile(write(SCENARIO), {}).experiment;
      expect(e.scenario).to.deep.include({ kind: 'test-echo', messages: 5 });
      expect(e.workload).to.equal(undefined);
    });

    it('rejects an unknown kind, bad scenario parameters and figures the scenario does not produce', () => {
      expect(problemsOf(SCENARIO.replace('kind: test-echo', 'kind: nope')).join('\n')).to.match(/"nope" is not a known scenario/);
      expect(problemsOf(SCENARIO.replace('messages: 5', 'messages: 0')).join('\n')).to.match(/scenario\.messages/);
      expect(problemsOf(SCENARIO.replace('figure: echoed', 'figure: committed')).join('\n')).to.match(/figure committed is not a known audit figure \(sent, echoed\)/);
    });

    it('rejects a file with neither workload nor scenario', () => {
      expect(problemsOf(VALID.replace(/workload:\n.*\n.*\n/, '')).join('\n')).to.match(/workload: is required/);
    });
  });
});
