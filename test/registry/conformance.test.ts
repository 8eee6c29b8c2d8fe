import { expect } from 'chai';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { CompatibilityLevel } from '../../src/registry/compatibility';
import { startRegistry, type RunningRegistry } from './server';

/**
 * Conformance with Confluent Schema Registry 7.7 (the image docker-compose.yml pins), through its REST API with the
 * real client (@kafkajs/confluent-schema-registry) and plain HTTP. Every expected answer is what Confluent gives:
 * Avro's Java SchemaCompatibility (Avro 1.11) decides compatibility, so the cases below follow its rules —
 * defaults fill missing fields, aliases match renamed fields and records, names compare without namespaces,
 * enum defaults absorb unknown symbols, logical types do not count (their underlying types do).
 */

type Field = Record<string, unknown>;
const record = (fields: Field[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'record',
    name: 'Product',
    namespace: 'lab.conformance',
    ...extra,
    fields,
  });
const a = { name: 'a', type: 'int' };
const withDefault = (name: string, type: unknown, value: unknown, more: Field = {}) => ({
  name,
  type,
  default: value,
  ...more,
});
const color = (symbols: string[], def?: string) => ({
  name: 'color',
  type: { type: 'enum', name: 'Color', symbols, ...(def ? { default: def } : {}) },
});
const address = (fields: Field[]) => ({
  name: 'address',
  type: { type: 'record', name: 'Address', fields },
});
const street = { name: 'street', type: 'string' };

interface Case {
  what: string;
  /** registered in this order (under NONE), then the level is set */
  versions: string[];
  candidate: string;
  /** level → does Confluent accept the candidate? */
  expect: Partial<Record<CompatibilityLevel, boolean>>;
}

const CASES: Case[] = [
  {
    what: 'adding a field with a default',
    versions: [record([a])],
    candidate: record([a, withDefault('b', 'string', 'x')]),
    expect: { BACKWARD: true, FORWARD: true, FULL: true, NONE: true },
  },
  {
    what: 'adding a field without a default',
    versions: [record([a])],
    candidate: record([a, { name: 'b', type: 'string' }]),
    expect: { BACKWARD: false, FORWARD: true, FULL: false, NONE: true },
  },
  {
    what: 'removing a field that has a default',
    versions: [record([a, withDefault('b', 'string', 'x')])],
    candidate: record([a]),
    expect: { BACKWARD: true, FORWARD: true, FULL: true },
  },
  {
    what: 'removing a field without a default',
    versions: [record([a, { name: 'b', type: 'string' }])],
    candidate: record([a]),
    expect: { BACKWARD: true, FORWARD: false, FULL: false },
  },
  {
    what: 'renaming a field with an alias to its old name (new reader only)',
    versions: [record([a])],
    candidate: record([{ name: 'c', type: 'int', aliases: ['a'] }]),
    expect: { BACKWARD: true, FORWARD: false, FULL: false },
  },
  {
    what: 'renaming a field when both versions alias each other',
    versions: [record([{ name: 'a', type: 'int', aliases: ['c'] }])],
    candidate: record([{ name: 'c', type: 'int', aliases: ['a'] }]),
    expect: { BACKWARD: true, FORWARD: true, FULL: true },
  },
  {
    what: 'renaming the record with an alias to its old full name',
    versions: [record([a])],
    candidate: record([a], { name: 'Item', aliases: ['lab.conformance.Product'] }),
    expect: { BACKWARD: true, FORWARD: false },
  },
  {
    what: 'renaming the record without an alias',
    versions: [record([a])],
    candidate: record([a], { name: 'Item' }),
    expect: { BACKWARD: false, FORWARD: false, NONE: true },
  },
  {
    what: 'moving the record to another namespace (Avro compares simple names)',
    versions: [record([a])],
    candidate: record([a], { namespace: 'lab.elsewhere' }),
    expect: { BACKWARD: true, FORWARD: true, FULL: true },
  },
  {
    what: 'widening a field to a union with null',
    versions: [record([{ name: 's', type: 'string' }])],
    candidate: record([{ name: 's', type: ['null', 'string'] }]),
    expect: { BACKWARD: true, FORWARD: false, FULL: false },
  },
  {
    what: 'narrowing a union to one of its branches',
    versions: [record([{ name: 's', type: ['null', 'string'], default: null }])],
    candidate: record([{ name: 's', type: 'string' }]),
    expect: { BACKWARD: false, FORWARD: true, FULL: false },
  },
  {
    what: 'adding a branch to a union',
    versions: [record([{ name: 'v', type: ['int', 'string'] }])],
    candidate: record([{ name: 'v', type: ['int', 'string', 'boolean'] }]),
    expect: { BACKWARD: true, FORWARD: false },
  },
  {
    what: 'promoting int to long',
    versions: [record([a])],
    candidate: record([{ name: 'a', type: 'long' }]),
    expect: { BACKWARD: true, FORWARD: false, FULL: false },
  },
  {
    what: 'narrowing long to int',
    versions: [record([{ name: 'a', type: 'long' }])],
    candidate: record([a]),
    expect: { BACKWARD: false, FORWARD: true },
  },
  {
    what: 'string read as bytes and back',
    versions: [record([{ name: 's', type: 'string' }])],
    candidate: record([{ name: 's', type: 'bytes' }]),
    expect: { FULL: true },
  },
  {
    what: 'adding an enum symbol, no enum default',
    versions: [record([color(['RED', 'BLUE'])])],
    candidate: record([color(['RED', 'BLUE', 'GREEN'])]),
    expect: { BACKWARD: true, FORWARD: false, FULL: false },
  },
  {
    what: 'adding an enum symbol when the old enum has a default',
    versions: [record([color(['RED', 'BLUE'], 'RED')])],
    candidate: record([color(['RED', 'BLUE', 'GREEN'], 'RED')]),
    expect: { BACKWARD: true, FORWARD: true, FULL: true },
  },
  {
    what: 'removing an enum symbol, no enum default',
    versions: [record([color(['RED', 'BLUE', 'GREEN'])])],
    candidate: record([color(['RED', 'BLUE'])]),
    expect: { BACKWARD: false, FORWARD: true },
  },
  {
    what: 'removing an enum symbol when the new enum has a default',
    versions: [record([color(['RED', 'BLUE', 'GREEN'])])],
    candidate: record([color(['RED', 'BLUE'], 'RED')]),
    expect: { BACKWARD: true, FORWARD: true },
  },
  {
    what: 'adding a field with a default inside a nested record',
    versions: [record([address([street])])],
    candidate: record([address([street, withDefault('zip', 'string', '')])]),
    expect: { BACKWARD: true, FORWARD: true, FULL: true },
  },
  {
    what: 'adding a field without a default inside a nested record',
    versions: [record([address([street])])],
    candidate: record([address([street, { name: 'zip', type: 'string' }])]),
    expect: { BACKWARD: false, FORWARD: true },
  },
  {
    what: 'adding a logical type to a long (the underlying type is unchanged)',
    versions: [record([{ name: 'at', type: 'long' }])],
    candidate: record([{ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }]),
    expect: { FULL: true },
  },
  {
    what: 'a logical type over a different underlying type',
    versions: [record([{ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }])],
    candidate: record([{ name: 'at', type: { type: 'int', logicalType: 'date' } }]),
    expect: { BACKWARD: false, FORWARD: true },
  },
  {
    what: 'three versions: a required field that only the latest one carries',
    versions: [record([a]), record([a, withDefault('b', 'string', 'x')])],
    candidate: record([a, { name: 'b', type: 'string' }]),
    expect: {
      BACKWARD: true,
      BACKWARD_TRANSITIVE: false,
      FULL: true,
      FULL_TRANSITIVE: false,
      FORWARD_TRANSITIVE: true,
    },
  },
  {
    what: 'three versions: removing a field only the latest one gave a default',
    versions: [
      record([a, { name: 'b', type: 'string' }]),
      record([a, withDefault('b', 'string', 'x')]),
    ],
    candidate: record([a]),
    expect: {
      FORWARD: true,
      FORWARD_TRANSITIVE: false,
      FULL: true,
      FULL_TRANSITIVE: false,
      BACKWARD_TRANSITIVE: true,
    },
  },
  {
    what: 'four versions, each adding a field with a default',
    versions: [
      record([a]),
      record([a, withDefault('b', 'string', 'x')]),
      record([a, withDefault('b', 'string', 'x'), withDefault('c', 'long', 0)]),
    ],
    candidate: record([
      a,
      withDefault('b', 'string', 'x'),
      withDefault('c', 'long', 0),
      withDefault('d', ['null', 'string'], null),
    ]),
    expect: { BACKWARD_TRANSITIVE: true, FORWARD_TRANSITIVE: true, FULL_TRANSITIVE: true },
  },
];

describe('schema registry conformance with Confluent (REST API, the real client and plain HTTP)', () => {
  let reg: RunningRegistry;
  let n = 0;
  beforeEach(async () => (reg = await startRegistry()));
  afterEach(() => reg.close());

  /** The case's versions under NONE (all accepted), then the level under test. */
  async function prepare(c: Case, level: CompatibilityLevel): Promise<string> {
    const subject = `case-${++n}-value`;
    await reg.call('PUT', `/config/${subject}`, { compatibility: 'NONE' });
    for (const v of c.versions)
      expect(
        (await reg.call('POST', `/subjects/${subject}/versions`, { schema: v })).status,
      ).to.equal(200);
    expect((await reg.call('PUT', `/config/${subject}`, { compatibility: level })).status).to.equal(
      200,
    );
    return subject;
  }

  for (const c of CASES) {
    for (const [level, accepted] of Object.entries(c.expect) as [CompatibilityLevel, boolean][]) {
      it(`${accepted ? 'accepts' : 'refuses'} ${c.what} under ${level}, in the compatibility check and at registration`, async () => {
        const subject = await prepare(c, level);
        const check = await reg.call(
          'POST',
          `/compatibility/subjects/${subject}/versions?verbose=true`,
          { schema: c.candidate },
        );
        expect(check.status, check.text).to.equal(200);
        expect(check.json.is_compatible, JSON.stringify(check.json.messages)).to.equal(accepted);
        const client = new SchemaRegistry({ host: reg.url });
        const registered = await client
          .register(
            { type: SchemaType.AVRO, schema: c.candidate },
            { subject, compatibility: level as never },
          )
          .then(
            () => 200,
            (e: { status?: number }) => e.status,
          );
        expect(registered).to.equal(accepted ? 200 : 409);
      });
    }
  }

  it('checks one given version with the level\'s directions only, and "latest" against the newest live version', async () => {
    const c = CASES.find((x) => x.what.startsWith('three versions: a required'))!;
    const subject = await prepare(c, 'BACKWARD_TRANSITIVE');
    const against = async (v: string) =>
      (
        await reg.call('POST', `/compatibility/subjects/${subject}/versions/${v}`, {
          schema: c.candidate,
        })
      ).json.is_compatible;
    expect(await against('1')).to.equal(false);
    expect(await against('2')).to.equal(true);
    expect(await against('latest')).to.equal(true);
  });

  it('answers a compatibility check on a subject without versions as Confluent does: compatible against latest or all, 40402 for a given version, 42201 for an invalid schema', async () => {
    const schema = record([a]);
    expect(
      (await reg.call('POST', '/compatibility/subjects/nothing-value/versions', { schema })).json,
    ).to.deep.equal({ is_compatible: true });
    expect(
      (await reg.call('POST', '/compatibility/subjects/nothing-value/versions/latest', { schema }))
        .json,
    ).to.deep.equal({ is_compatible: true });
    const given = await reg.call('POST', '/compatibility/subjects/nothing-value/versions/1', {
      schema,
    });
    expect([given.status, given.json.error_code]).to.deep.equal([404, 40402]);
    const invalid = await reg.call('POST', '/compatibility/subjects/nothing-value/versions', {
      schema: '{"type":"record","name":"X"}',
    });
    expect([invalid.status, invalid.json.error_code]).to.deep.equal([422, 42201]);
  });
});
