import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  avroEventDecoder,
  avroEventEncoder,
  schemaText,
  SchemaMismatchError,
} from '../../src/lib/avro-events';
import { findRoot } from '../../src/lib/config';
import { schemaRegistry } from '../../src/registry/registry';
import { FileStore } from '../../src/registry/store';
import { rebinding } from '../support/rebinding';
import { startRegistry, type RunningRegistry } from './server';

const root = findRoot();
const event = {
  eventId: '0b7f3c7e-8a43-4b8e-9a57-3d3f1f8b8f11',
  type: 'ProductCreated' as const,
  productId: 7,
  version: 1,
  name: 'lamp',
  price: 12.5,
  stock: 3,
  occurredAt: '2026-01-01T00:00:00.000Z',
};

/** A schema with what the old registry lost: a field default, a logical type, aliases, a doc and an enum default, pretty-printed. */
const RICH_V1 = `{
  "type": "record",
  "name": "Product",
  "namespace": "lab.rich",
  "doc": "v1",
  "fields": [
    { "name": "id", "type": "long" },
    { "name": "name", "type": "string", "aliases": ["title"] },
    { "name": "price", "type": "double" },
    { "name": "currency", "type": "string", "default": "EUR" },
    { "name": "createdAt", "type": { "type": "long", "logicalType": "timestamp-millis" } },
    { "name": "state", "type": { "type": "enum", "name": "State", "symbols": ["ACTIVE", "RETIRED"], "default": "ACTIVE" }, "default": "ACTIVE" }
  ]
}
`;
/** v2 renames name → title (aliased both ways), adds a note with a default, and drops currency (v1 has a default for it). */
const RICH_V2 = JSON.stringify({
  type: 'record',
  name: 'Product',
  namespace: 'lab.rich',
  doc: 'v2',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'title', type: 'string', aliases: ['name'] },
    { name: 'price', type: 'double' },
    { name: 'createdAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    {
      name: 'state',
      type: {
        type: 'enum',
        name: 'State',
        symbols: ['ACTIVE', 'RETIRED', 'DRAFT'],
        default: 'ACTIVE',
      },
      default: 'ACTIVE',
    },
    { name: 'note', type: 'string', default: '' },
  ],
});

describe('schema registry (Confluent REST API, Avro compatibility)', () => {
  let reg: RunningRegistry;
  let url: string;
  let dir: string;
  const post = (p: string, body: unknown, method = 'POST') =>
    fetch(`${url}${p}`, {
      method,
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify(body),
    });

  beforeEach(async () => {
    reg = await startRegistry();
    ({ url, dir } = reg);
  });
  afterEach(() => reg.close());

  it('answers 409 to a schema that removes a required field under BACKWARD, its default level', async () => {
    expect(
      (await post('/subjects/t-value/versions', { schema: schemaText(root, 'v1') })).status,
    ).to.equal(200);
    const res = await post('/subjects/t-value/versions', {
      schema: schemaText(root, 'v2-breaking'),
    });
    expect(res.status).to.equal(409);
    expect(((await res.json()) as { error_code: number }).error_code).to.equal(409);
  });

  it('accepts the breaking schema under NONE and the compatible one under FULL', async () => {
    await post('/subjects/a-value/versions', { schema: schemaText(root, 'v1') });
    expect((await post('/config/a-value', { compatibility: 'NONE' }, 'PUT')).status).to.equal(200);
    expect(
      (await post('/subjects/a-value/versions', { schema: schemaText(root, 'v2-breaking') }))
        .status,
    ).to.equal(200);
    await post('/subjects/b-value/versions', { schema: schemaText(root, 'v1') });
    await post('/config/b-value', { compatibility: 'FULL' }, 'PUT');
    expect(
      (await post('/subjects/b-value/versions', { schema: schemaText(root, 'v2-compatible') }))
        .status,
    ).to.equal(200);
  });

  it('gives the same id to the same schema, and keeps its state across a restart', async () => {
    const a = (await (
      await post('/subjects/c-value/versions', { schema: schemaText(root, 'v1') })
    ).json()) as { id: number };
    const b = (await (
      await post('/subjects/c-value/versions', { schema: schemaText(root, 'v1') })
    ).json()) as { id: number };
    expect(a.id).to.equal(b.id);
    const again = schemaRegistry(new FileStore(path.join(dir, 'registry.json')));
    expect(again.versions('c-value')).to.deep.equal([1]);
  });

  it('round-trips an event through @kafkajs/confluent-schema-registry, and a v1 reader cannot read v2-breaking', async () => {
    const v1 = avroEventEncoder(url, root, 'v1', 'd');
    const encoded = await v1.encode(event);
    expect(encoded[0]).to.equal(0);
    expect(await avroEventDecoder(url, root, 'v1').decode(encoded)).to.deep.equal(event);
    expect(await avroEventDecoder(url, root, 'v2').decode(encoded)).to.deep.equal(event); // the default fills currency
    await post('/config/d-value', { compatibility: 'NONE' }, 'PUT');
    const broken = await avroEventEncoder(url, root, 'v2-breaking', 'd').encode(event);
    const err = await avroEventDecoder(url, root, 'v1')
      .decode(broken)
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SchemaMismatchError);
    expect((err as Error).message).to.match(/price/);
    // The library's own decode without a reader schema reads it with the writer's schema: priceCents is there.
    const raw = (await new SchemaRegistry({ host: url }).decode(broken)) as { priceCents: number };
    expect(raw.priceCents).to.equal(1250);
    expect(SchemaType.AVRO).to.equal('AVRO');
  });

  it('serves a schema with defaults, a logical type and aliases back byte for byte, by id and by version, and the client decodes with it', async () => {
    const { id } = (await (
      await post('/subjects/rich-value/versions', { schema: RICH_V1 })
    ).json()) as { id: number };
    expect(
      ((await reg.call('GET', `/schemas/ids/${id}`)).json as { schema: string }).schema,
    ).to.equal(RICH_V1);
    expect((await reg.call('GET', `/schemas/ids/${id}/schema`)).text).to.equal(RICH_V1);
    expect((await reg.call('GET', '/subjects/rich-value/versions/1/schema')).text).to.equal(
      RICH_V1,
    );
    expect((await reg.call('GET', '/subjects/rich-value/versions/latest')).json).to.deep.equal({
      subject: 'rich-value',
      version: 1,
      id,
      schema: RICH_V1,
    });
    const client = new SchemaRegistry({ host: url });
    const record = {
      id: 1,
      name: 'lamp',
      price: 12.5,
      currency: 'EUR',
      createdAt: 1767225600000,
      state: 'ACTIVE',
    };
    expect({ ...(await client.decode(await client.encode(id, record))) }).to.deep.equal(record);
    expect(
      await client.getRegistryIdBySchema('rich-value', { type: SchemaType.AVRO, schema: RICH_V1 }),
    ).to.equal(id);
  });

  it('accepts under FORWARD and FULL_TRANSITIVE the evolution Confluent accepts for it, which only the stored defaults and aliases allow', async () => {
    for (const level of ['FORWARD', 'FULL_TRANSITIVE']) {
      const subject = `rich-${level}-value`;
      await post(`/config/${subject}`, { compatibility: level }, 'PUT');
      expect((await post(`/subjects/${subject}/versions`, { schema: RICH_V1 })).status).to.equal(
        200,
      );
      const v2 = await reg.call('POST', `/subjects/${subject}/versions`, { schema: RICH_V2 });
      expect(v2.status, `${level}: ${v2.text}`).to.equal(200);
      // v3 drops price, which no version gives a default: an old reader cannot fill it.
      const v3 = JSON.parse(RICH_V2) as { fields: { name: string }[] };
      v3.fields = v3.fields.filter((f) => f.name !== 'price');
      const refused = await reg.call('POST', `/subjects/${subject}/versions`, {
        schema: JSON.stringify(v3),
      });
      expect([refused.status, refused.json.error_code], level).to.deep.equal([409, 409]);
    }
  });

  it('gives one id to one meaning: the same schema reformatted is the same version, a changed default or logical type is a new id', async () => {
    const compact = JSON.stringify(JSON.parse(RICH_V1));
    const a = (await reg.call('POST', '/subjects/same-value/versions', { schema: RICH_V1 })).json
      .id;
    expect(
      (await reg.call('POST', '/subjects/same-value/versions', { schema: compact })).json.id,
    ).to.equal(a);
    expect((await reg.call('GET', '/subjects/same-value/versions')).json).to.deep.equal([1]);
    await reg.call('PUT', '/config/other-value', { compatibility: 'NONE' });
    const ids = [a];
    for (const edit of [
      (s: string) => s.replace('"EUR"', '"USD"'),
      (s: string) => s.replace('"timestamp-millis"', '"timestamp-micros"'),
      (s: string) => s.replace('"title"', '"label"'),
    ]) {
      const out = await reg.call('POST', '/subjects/other-value/versions', {
        schema: edit(RICH_V1),
      });
      expect(out.status, out.text).to.equal(200);
      ids.push(out.json.id);
    }
    expect(new Set(ids).size).to.equal(4);
    // The same schema under another subject is the same id, listed under both.
    expect(
      (await reg.call('POST', '/subjects/third-value/versions', { schema: compact })).json.id,
    ).to.equal(a);
    expect((await reg.call('GET', `/schemas/ids/${a}/subjects`)).json).to.deep.equal([
      'same-value',
      'third-value',
    ]);
    expect((await reg.call('GET', `/schemas/ids/${a}/versions`)).json).to.deep.equal([
      { subject: 'same-value', version: 1 },
      { subject: 'third-value', version: 1 },
    ]);
  });

  it("soft-deletes a version (hidden from listings and checks, still served by id), then deletes it permanently, with Confluent's error codes", async () => {
    await reg.call('PUT', '/config/del-value', { compatibility: 'NONE' });
    const v1 = (
      await reg.call('POST', '/subjects/del-value/versions', { schema: schemaText(root, 'v1') })
    ).json.id;
    await reg.call('POST', '/subjects/del-value/versions', {
      schema: schemaText(root, 'v2-breaking'),
    });
    const code = async (method: string, p: string) => (await reg.call(method, p)).json.error_code;
    expect(await code('DELETE', '/subjects/del-value/versions/1?permanent=true')).to.equal(40407);
    expect((await reg.call('DELETE', '/subjects/del-value/versions/1')).json).to.equal(1);
    expect(await code('DELETE', '/subjects/del-value/versions/1')).to.equal(40406);
    expect((await reg.call('GET', '/subjects/del-value/versions')).json).to.deep.equal([2]);
    expect((await reg.call('GET', '/subjects/del-value/versions?deleted=true')).json).to.deep.equal(
      [1, 2],
    );
    expect(await code('GET', '/subjects/del-value/versions/1')).to.equal(40402);
    expect((await reg.call('GET', '/subjects/del-value/versions/1?deleted=true')).json.id).to.equal(
      v1,
    );
    expect((await reg.call('GET', `/schemas/ids/${v1}`)).status).to.equal(200);
    expect((await reg.call('GET', `/schemas/ids/${v1}/versions`)).json).to.deep.equal([]);
    expect((await reg.call('GET', `/schemas/ids/${v1}/versions?deleted=true`)).json).to.deep.equal([
      { subject: 'del-value', version: 1 },
    ]);
    expect(
      (await reg.call('DELETE', '/subjects/del-value/versions/1?permanent=true')).json,
    ).to.equal(1);
    expect(await code('GET', `/schemas/ids/${v1}`)).to.equal(40403);
    expect(await code('DELETE', '/subjects/del-value/versions/abc')).to.equal(42202);
    expect(await code('DELETE', '/subjects/del-value/versions/7')).to.equal(40402);
    expect(await code('DELETE', '/subjects/nobody-value/versions/1')).to.equal(40401);
    // A new version after deletes takes the next number: numbers are never reused while a later one exists.
    const v3 = await reg.call('POST', '/subjects/del-value/versions', {
      schema: schemaText(root, 'v2-compatible'),
    });
    expect((await reg.call('GET', `/schemas/ids/${v3.json.id}/versions`)).json).to.deep.equal([
      { subject: 'del-value', version: 3 },
    ]);
  });

  it('soft-deletes a subject (gone from /subjects, its level dropped), lists it with ?deleted=true, then deletes it permanently', async () => {
    await reg.call('PUT', '/config/gone-value', { compatibility: 'FULL' });
    await reg.call('POST', '/subjects/gone-value/versions', { schema: schemaText(root, 'v1') });
    const code = async (method: string, p: string) => (await reg.call(method, p)).json.error_code;
    expect(await code('DELETE', '/subjects/gone-value?permanent=true')).to.equal(40405);
    expect((await reg.call('DELETE', '/subjects/gone-value')).json).to.deep.equal([1]);
    expect(await code('DELETE', '/subjects/gone-value')).to.equal(40404);
    expect((await reg.call('GET', '/subjects')).json).to.deep.equal([]);
    expect((await reg.call('GET', '/subjects?deleted=true')).json).to.deep.equal(['gone-value']);
    expect(await code('GET', '/subjects/gone-value/versions')).to.equal(40401);
    expect(await code('GET', '/config/gone-value')).to.equal(40408);
    expect(
      (
        await reg.call('POST', '/subjects/gone-value?deleted=true', {
          schema: schemaText(root, 'v1'),
        })
      ).json.version,
    ).to.equal(1);
    expect(
      (await reg.call('POST', '/subjects/gone-value', { schema: schemaText(root, 'v1') })).json
        .error_code,
    ).to.equal(40401);
    expect((await reg.call('DELETE', '/subjects/gone-value?permanent=true')).json).to.deep.equal([
      1,
    ]);
    expect((await reg.call('GET', '/subjects?deleted=true')).json).to.deep.equal([]);
  });

  it("answers lookups, config deletes, /mode and bad input with Confluent's shapes and codes", async () => {
    const v1 = schemaText(root, 'v1');
    await reg.call('POST', '/subjects/look-value/versions', { schema: v1 });
    expect(
      (await reg.call('POST', '/subjects/look-value', { schema: JSON.stringify(JSON.parse(v1)) }))
        .json,
    ).to.deep.include({ subject: 'look-value', version: 1, schema: v1 });
    expect(
      (
        await reg.call('POST', '/subjects/look-value', {
          schema: schemaText(root, 'v2-compatible'),
        })
      ).json.error_code,
    ).to.equal(40403);
    expect(
      (await reg.call('POST', '/subjects/nobody-value', { schema: v1 })).json.error_code,
    ).to.equal(40401);
    expect(
      (await reg.call('POST', '/subjects/look-value/versions', { schema: '{"type":"nope"}' })).json
        .error_code,
    ).to.equal(42201);
    expect(
      (
        await reg.call('POST', '/subjects/look-value/versions', {
          schema: v1,
          schemaType: 'PROTOBUF',
        })
      ).json.error_code,
    ).to.equal(42201);
    expect(
      (await reg.call('PUT', '/config/look-value', { compatibility: 'SIDEWAYS' })).json.error_code,
    ).to.equal(42203);
    expect((await reg.call('DELETE', '/config/look-value')).json.error_code).to.equal(40401);
    await reg.call('PUT', '/config/look-value', { compatibility: 'FULL' });
    expect((await reg.call('DELETE', '/config/look-value')).json).to.deep.equal({
      compatibilityLevel: 'FULL',
    });
    expect((await reg.call('GET', '/config/look-value?defaultToGlobal=true')).json).to.deep.equal({
      compatibilityLevel: 'BACKWARD',
    });
    expect((await reg.call('GET', '/mode')).json).to.deep.equal({ mode: 'READWRITE' });
    expect((await reg.call('GET', '/schemas/ids/999')).json.error_code).to.equal(40403);
    expect((await reg.call('GET', '/subjects/look-value/versions/0')).json.error_code).to.equal(
      42202,
    );
  });

  it('refuses a body that is not JSON with 415, and a cross-site browser request with 403, before touching any state', async () => {
    const text = await fetch(`${url}/subjects/x-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ schema: schemaText(root, 'v1') }),
    });
    expect(text.status).to.equal(415);
    expect(((await text.json()) as { error_code: number }).error_code).to.equal(415);
    const form = await fetch(`${url}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'compatibility=NONE',
    });
    expect(form.status).to.equal(415);
    const crossSite = await fetch(`${url}/config`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'cors',
        origin: 'https://evil.example',
      },
      body: JSON.stringify({ compatibility: 'NONE' }),
    });
    expect(crossSite.status).to.equal(403);
    const foreignOrigin = await fetch(`${url}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', origin: 'http://127.0.0.1:1' },
      body: JSON.stringify({ compatibility: 'NONE' }),
    });
    expect(foreignOrigin.status).to.equal(403);
    expect((await reg.call('GET', '/config')).json).to.deep.equal({
      compatibilityLevel: 'BACKWARD',
    });
    expect((await reg.call('GET', '/subjects')).json).to.deep.equal([]);
    // Its own origin and non-browser clients pass.
    const sameOrigin = await fetch(`${url}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', origin: url },
      body: JSON.stringify({ compatibility: 'FULL' }),
    });
    expect(sameOrigin.status).to.equal(200);
  });

  it('answers the DNS-rebinding request (foreign Host, matching Origin, JSON) with 421 and registers nothing', async () => {
    const refused = await rebinding(url, '/subjects/rebound-value/versions', {
      schema: schemaText(root, 'v1'),
    });
    expect(refused.status, refused.body).to.equal(421);
    expect(JSON.parse(refused.body).message).to.contain(`http://127.0.0.1:${new URL(url).port}`);
    expect((await reg.call('GET', '/subjects?deleted=true')).json).to.deep.equal([]);
  });

  it('reads a state file written before soft deletes (versions as a list of ids)', async () => {
    const file = path.join(dir, 'old.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        schemas: { 1: schemaText(root, 'v1') },
        subjects: { 'old-value': { versions: [1] } },
        compatibility: 'BACKWARD',
        nextId: 2,
      }),
    );
    const old = schemaRegistry(new FileStore(file));
    expect(old.version('old-value', 'latest')).to.include({ version: 1, id: 1 });
    expect(old.register('old-value', schemaText(root, 'v1'))).to.deep.equal({ id: 1 });
  });
});
