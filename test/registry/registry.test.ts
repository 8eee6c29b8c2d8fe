import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { avroEventDecoder, avroEventEncoder, schemaText, SchemaMismatchError } from '../../src/lib/avro-events';
import { findRoot } from '../../src/lib/config';
import { registryApp } from '../../src/registry/http';
import { schemaRegistry } from '../../src/registry/registry';
import { FileStore } from '../../src/registry/store';

const root = findRoot();
const event = { eventId: '0b7f3c7e-8a43-4b8e-9a57-3d3f1f8b8f11', type: 'ProductCreated' as const, productId: 7, version: 1, name: 'lamp', price: 12.5, stock: 3, occurredAt: '2026-01-01T00:00:00.000Z' };

describe('schema registry (Confluent REST API, Avro compatibility)', () => {
  let dir: string;
  let url: string;
  let close: () => void;
  const post = (p: string, body: unknown, method = 'POST') => fetch(`${url}${p}`, { method, headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify(body) });

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-registry-'));
    const server = registryApp(schemaRegistry(new FileStore(path.join(dir, 'registry.json')))).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterEach(() => {
    close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 409 to a schema that removes a required field under BACKWARD, its default level', async () => {
    expect((await post('/subjects/t-value/versions', { schema: schemaText(root, 'v1') })).status).to.equal(200);
    const res = await post('/subjects/t-value/versions', { schema: schemaText(root, 'v2-breaking') });
    expect(res.status).to.equal(409);
    expect(((await res.json()) as { error_code: number }).error_code).to.equal(409);
  });

  it('accepts the breaking schema under NONE and the compatible one under FULL', async () => {
    await post('/subjects/a-value/versions', { schema: schemaText(root, 'v1') });
    expect((await post('/config/a-value', { compatibility: 'NONE' }, 'PUT')).status).to.equal(200);
    expect((await post('/subjects/a-value/versions', { schema: schemaText(root, 'v2-breaking') })).status).to.equal(200);
    await post('/subjects/b-value/versions', { schema: schemaText(root, 'v1') });
    await post('/config/b-value', { compatibility: 'FULL' }, 'PUT');
    expect((await post('/subjects/b-value/versions', { schema: schemaText(root, 'v2-compatible') })).status).to.equal(200);
  });

  it('gives the same id to the same schema, and keeps its state across a restart', async () => {
    const a = (await (await post('/subjects/c-value/versions', { schema: schemaText(root, 'v1') })).json()) as { id: number };
    const b = (await (await post('/subjects/c-value/versions', { schema: schemaText(root, 'v1') })).json()) as { id: number };
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
    const err = await avroEventDecoder(url, root, 'v1').decode(broken).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SchemaMismatchError);
    expect((err as Error).message).to.match(/price/);
    // The library's own decode without a reader schema reads it with the writer's schema: priceCents is there.
    const raw = (await new SchemaRegistry({ host: url }).decode(broken)) as { priceCents: number };
    expect(raw.priceCents).to.equal(1250);
    expect(SchemaType.AVRO).to.equal('AVRO');
  });
});
