import { expect } from 'chai';
import { canonicalForm, parseAvroSchema } from '../../src/registry/avro-schema';
import { RegistryError } from '../../src/registry/errors';

const base = {
  type: 'record',
  name: 'Product',
  namespace: 'lab',
  fields: [{ name: 'price', type: 'double' }],
};
const withField = (field: Record<string, unknown>) => ({
  ...base,
  fields: [...base.fields, field],
});

describe("Avro schema canonical form (the registry's identity of a schema)", () => {
  it('is the same whatever the whitespace, key order, primitive spelling or namespace spelling', () => {
    const forms = [
      base,
      {
        fields: [{ type: 'double', name: 'price' }],
        namespace: 'lab',
        name: 'Product',
        type: 'record',
      },
      {
        type: 'record',
        name: 'lab.Product',
        fields: [{ name: 'price', type: { type: 'double' } }],
      },
      { ...base, fields: [{ name: 'price', type: 'double', order: 'ascending' }] },
    ];
    for (const f of forms)
      expect(canonicalForm(f), JSON.stringify(f)).to.equal(canonicalForm(base));
    expect(parseAvroSchema(JSON.stringify(base, null, 2)).canonical).to.equal(canonicalForm(base));
  });

  it('differs when a default, a logical type, an alias, an order, a doc, an enum symbol or an enum default differs', () => {
    const variants = [
      withField({ name: 'currency', type: 'string', default: 'EUR' }),
      withField({ name: 'currency', type: 'string', default: 'USD' }),
      withField({ name: 'currency', type: 'string' }),
      withField({ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }),
      withField({ name: 'at', type: 'long' }),
      withField({ name: 'at', type: 'long', aliases: ['createdAt'] }),
      withField({ name: 'at', type: 'long', order: 'descending' }),
      withField({ name: 'at', type: 'long', doc: 'when' }),
      { ...base, aliases: ['Item'] },
      withField({ name: 'c', type: { type: 'enum', name: 'C', symbols: ['A', 'B'] } }),
      withField({ name: 'c', type: { type: 'enum', name: 'C', symbols: ['B', 'A'] } }),
      withField({
        name: 'c',
        type: { type: 'enum', name: 'C', symbols: ['A', 'B'], default: 'A' },
      }),
      withField({
        name: 'c',
        type: {
          type: 'fixed',
          name: 'F',
          size: 16,
          logicalType: 'decimal',
          precision: 10,
          scale: 2,
        },
      }),
      withField({
        name: 'c',
        type: {
          type: 'fixed',
          name: 'F',
          size: 16,
          logicalType: 'decimal',
          precision: 12,
          scale: 2,
        },
      }),
    ];
    const forms = variants.map(canonicalForm);
    expect(new Set(forms).size).to.equal(variants.length);
  });

  it('qualifies references to named types the way Avro resolves them (enclosing namespace first)', () => {
    const nested = {
      type: 'record',
      name: 'Order',
      namespace: 'lab',
      fields: [
        {
          name: 'a',
          type: { type: 'record', name: 'Address', fields: [{ name: 's', type: 'string' }] },
        },
        { name: 'b', type: 'Address' },
      ],
    };
    const qualified = {
      type: 'record',
      name: 'lab.Order',
      fields: [
        {
          name: 'a',
          type: { type: 'record', name: 'lab.Address', fields: [{ name: 's', type: 'string' }] },
        },
        { name: 'b', type: 'lab.Address' },
      ],
    };
    expect(canonicalForm(nested)).to.equal(canonicalForm(qualified));
  });

  it('keeps the submitted text untouched and refuses what is not Avro with 42201', () => {
    const text = `{ "type": "record", "name": "R", "fields": [ { "name": "x", "type": "int", "default": 1 } ] }\n`;
    expect(parseAvroSchema(text).text).to.equal(text);
    for (const bad of [
      'not json',
      '{"type":"record","name":"R"}',
      '{"type":"record","name":"R","fields":[{"name":"x","type":"int","default":"one"}]}',
    ]) {
      const e = (() => {
        try {
          parseAvroSchema(bad);
        } catch (err) {
          return err;
        }
      })();
      expect(e, bad).to.be.instanceOf(RegistryError);
      expect((e as RegistryError).errorCode).to.equal(42201);
      expect((e as RegistryError).opts.cause, 'the parser error is kept as cause').to.be.instanceOf(
        Error,
      );
    }
  });
});
