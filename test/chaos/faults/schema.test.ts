import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FAULT_KINDS, FAULT_TYPES, FaultSchema, type Fault } from '../../../src/chaos/faults';
import { InvalidExperimentError, loadExperimentFile } from '../../../src/experiments/loader';

/** The smallest valid fault of every registered kind, and what its schema's defaults make of it. */
const DEFAULTS: Record<string, { input: Record<string, unknown>; parsed: Fault }> = {
  failpoint: {
    input: {
      type: 'failpoint',
      service: 'outbox-relay',
      failpoint: 'relay.before-publish',
      action: 'crash',
    },
    parsed: {
      type: 'failpoint',
      service: 'outbox-relay',
      failpoint: 'relay.before-publish',
      action: 'crash',
      after: 1,
      delayMs: 0,
      repeat: 1,
      sticky: false,
    },
  },
  latency: {
    input: { type: 'latency', proxy: 'mysql', latencyMs: 200 },
    parsed: {
      type: 'latency',
      proxy: 'mysql',
      stream: 'downstream',
      toxicity: 1,
      latencyMs: 200,
      jitterMs: 0,
    },
  },
  bandwidth: {
    input: { type: 'bandwidth', proxy: 'redis', rateKBps: 64 },
    parsed: { type: 'bandwidth', proxy: 'redis', stream: 'downstream', toxicity: 1, rateKBps: 64 },
  },
  slow_close: {
    input: { type: 'slow_close', proxy: 'redis', delayMs: 50 },
    parsed: { type: 'slow_close', proxy: 'redis', stream: 'downstream', toxicity: 1, delayMs: 50 },
  },
  timeout: {
    input: { type: 'timeout', proxy: 'kafka-1' },
    parsed: { type: 'timeout', proxy: 'kafka-1', stream: 'downstream', toxicity: 1, timeoutMs: 0 },
  },
  reset_peer: {
    input: { type: 'reset_peer', proxy: 'kafka-1' },
    parsed: {
      type: 'reset_peer',
      proxy: 'kafka-1',
      stream: 'downstream',
      toxicity: 1,
      timeoutMs: 0,
    },
  },
  slicer: {
    input: { type: 'slicer', proxy: 'mysql', averageSizeBytes: 64 },
    parsed: {
      type: 'slicer',
      proxy: 'mysql',
      stream: 'downstream',
      toxicity: 1,
      averageSizeBytes: 64,
      sizeVariationBytes: 0,
      delayUs: 0,
    },
  },
  limit_data: {
    input: { type: 'limit_data', proxy: 'mysql', bytes: 1024 },
    parsed: { type: 'limit_data', proxy: 'mysql', stream: 'downstream', toxicity: 1, bytes: 1024 },
  },
  'proxy-down': {
    input: { type: 'proxy-down', proxy: 'kafka-2-internal' },
    parsed: { type: 'proxy-down', proxy: 'kafka-2-internal' },
  },
  broker: {
    input: { type: 'broker', action: 'kill', broker: 2 },
    parsed: { type: 'broker', action: 'kill', broker: 2 },
  },
  'redis-cluster-node': {
    input: { type: 'redis-cluster-node', action: 'kill', node: 4 },
    parsed: { type: 'redis-cluster-node', action: 'kill', node: 4 },
  },
  'redis-cluster-reshard': {
    input: { type: 'redis-cluster-reshard', slots: 300 },
    parsed: { type: 'redis-cluster-reshard', slots: 300 },
  },
  service: {
    input: { type: 'service', action: 'restart', service: 'consumer-service' },
    parsed: { type: 'service', action: 'restart', service: 'consumer-service' },
  },
  replay: { input: { type: 'replay' }, parsed: { type: 'replay', dryRun: false, times: 1 } },
  'registry-set-compatibility': {
    input: { type: 'registry-set-compatibility', level: 'BACKWARD' },
    parsed: { type: 'registry-set-compatibility', level: 'BACKWARD' },
  },
  'registry-register': {
    input: { type: 'registry-register', schema: 'v1' },
    parsed: { type: 'registry-register', schema: 'v1' },
  },
};

const messages = (input: unknown) => {
  const r = FaultSchema.safeParse(input);
  expect(r.success, JSON.stringify(input)).to.equal(false);
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('the fault schema (every registered kind)', () => {
  it('rejects an unknown attribute, naming it and listing the valid attributes of its kind', () => {
    const m = messages({ type: 'latency', proxy: 'mysql', latencyMs: 200, latncy: 200 });
    expect(m).to.deep.equal([
      'latncy: unknown attribute "latncy" for a latency fault; valid attributes: proxy, stream, toxicity, durationMs, latencyMs, jitterMs',
    ]);
  });

  it("gives the same message through a kind's own schema (as `chaos inject` parses it)", () => {
    const broker = FAULT_KINDS.find((k) => k.type === 'broker')!;
    const r = broker.schema.safeParse({ type: 'broker', action: 'kill', broker: 1, brokr: 2 });
    expect(r.error?.issues.map((i) => i.message)).to.deep.equal([
      'unknown attribute "brokr" for a broker fault; valid attributes: action, broker',
    ]);
  });

  it("rejects Toxiproxy's own attribute names: units are in the lab's names (latencyMs, not latency)", () => {
    expect(messages({ type: 'latency', proxy: 'mysql', latency: 200 }).join('\n'))
      .to.match(/unknown attribute "latency".*latencyMs/)
      .and.match(/latencyMs: Required/);
  });

  it('rejects an unknown type, listing the registered ones', () => {
    const r = FaultSchema.safeParse({ type: 'toxic', proxy: 'mysql' });
    const issue = r.error!.issues[0];
    expect(issue.code).to.equal('invalid_union_discriminator');
    expect((issue as { options: unknown[] }).options).to.deep.equal(FAULT_TYPES);
  });

  it('makes a registry step state what it needs: a register step without a schema is invalid', () => {
    expect(messages({ type: 'registry-register' })).to.deep.equal(['schema: Required']);
    expect(messages({ type: 'registry-set-compatibility', level: 'SOMETIMES' }).join()).to.match(
      /^level: Invalid enum value/,
    );
  });

  it('bounds toxicity to 0..1 and stream to upstream|downstream', () => {
    expect(
      messages({ type: 'latency', proxy: 'mysql', latencyMs: 1, toxicity: 1.5 }).join(),
    ).to.match(/^toxicity: Number must be less than or equal to 1/);
    expect(
      messages({ type: 'bandwidth', proxy: 'mysql', rateKBps: 1, stream: 'sideways' }).join(),
    ).to.match(/^stream: Invalid enum value/);
  });

  for (const kind of FAULT_KINDS)
    it(`fills the defaults of a ${kind.type} fault`, () => {
      const d = DEFAULTS[kind.type];
      expect(d, `add a minimal ${kind.type} fault to DEFAULTS`).to.not.equal(undefined);
      expect(FaultSchema.parse(d.input)).to.deep.equal(d.parsed);
    });
});

describe('an experiment file with a misspelt fault attribute', () => {
  const yaml = `id: E-900
title: A fault with a typo
description: used by the fault schema tests only
expected: reproduced
services:
  command-service: {}
workload: { commands: 5, products: 2 }
method:
  - name: slow database
    fault:
      type: latency
      proxy: mysql
      latncy: 200
steady-state-hypothesis:
  title: t
  probes:
    - { name: p, type: audit, figure: committed, tolerance: { gt: 0 } }
`;

  it('is rejected by the loader with the line of the bad key and the valid attributes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-fault-'));
    fs.mkdirSync(path.join(dir, 'E-900-typo'));
    const file = path.join(dir, 'E-900-typo', 'experiment.yaml');
    fs.writeFileSync(file, yaml);
    const err = (() => {
      try {
        loadExperimentFile(file, {});
      } catch (e) {
        return e;
      }
    })();
    expect(err).to.be.instanceOf(InvalidExperimentError);
    const problems = (err as InvalidExperimentError).problems.join('\n');
    expect(problems).to.include(
      'line 13: method.0.fault.latncy: unknown attribute "latncy" for a latency fault; valid attributes: proxy, stream, toxicity, durationMs, latencyMs, jitterMs',
    );
    expect(problems).to.match(/method\.0\.fault\.latencyMs: is required/);
  });
});
