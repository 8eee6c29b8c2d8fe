import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as mysql from 'mysql2/promise';
import { CompressionTypes } from 'kafkajs';
import { withToxic, toxiproxy } from '../../src/chaos/toxics';
import { kafkaBootstrap, loadConfig, type LabConfig } from '../../src/lib/config';
import { proxyDecls } from '../../src/runtime/components/toxiproxy';
import { labKafka } from '../../src/lib/kafka';
import { INFRA_JOBS } from '../../src/runtime/components/prometheus';
import { dbConnectionOptions, infraComponents, prometheusClient, status } from '../../src/runtime/stack';
import { ensureLab } from '../support/lab';

describe('lab stack (real Kafka, MariaDB, Redis, Toxiproxy, Prometheus)', () => {
  let c: LabConfig;
  before(async () => {
    c = await ensureLab();
  });

  it('reports every component running and healthy', async () => {
    const rows = await status(c);
    expect(rows.map((r) => r.component)).to.have.members(infraComponents(c).map((x) => x.name));
    for (const r of rows) expect(r, r.component).to.include({ running: true, healthy: true });
  });

  it('consumes back a message produced with acks=all, and every byte crossed a Toxiproxy listener', async () => {
    const kafka = labKafka(c, 'stack-test');
    const admin = kafka.admin();
    await admin.connect();
    const topic = `test.roundtrip.${randomUUID().slice(0, 8)}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] });
    // Brokers must advertise the proxy ports, or clients would bypass Toxiproxy after bootstrap.
    const { brokers } = await admin.describeCluster();
    expect(brokers.map((b) => `${b.host}:${b.port}`)).to.have.members(kafkaBootstrap(c));
    const bytesBefore = await proxyBytes(c);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const value = `hello-${randomUUID()}`;
    await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: [{ key: 'k', value }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `stack-test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
      void consumer.run({ eachMessage: async ({ message }) => { clearTimeout(t); resolve(String(message.value)); } });
    });
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
    expect(got).to.equal(value);
    expect(await proxyBytes(c)).to.be.greaterThan(bytesBefore);
  });

  it('adds the configured latency (±40 ms) to a query through the mysql proxy', async () => {
    const conn = await mysql.createConnection(dbConnectionOptions(c));
    const median = async () => {
      const times: number[] = [];
      for (let i = 0; i < 9; i++) {
        const t0 = performance.now();
        await conn.query('SELECT 1');
        times.push(performance.now() - t0);
      }
      return times.sort((a, b) => a - b)[4];
    };
    try {
      const base = await median();
      const slowed = await withToxic(c, { proxy: 'mysql', type: 'latency', stream: 'downstream', attributes: { latency: 200, jitter: 0 } }, median);
      const after = await median();
      expect(slowed - base).to.be.within(160, 240);
      expect(after).to.be.below(base + 40); // the toxic is gone
    } finally {
      await conn.end();
    }
    const toxics = await (await fetch(`http://${c.host}:${c.ports.toxiproxy}/proxies/mysql/toxics`)).json();
    expect(toxics).to.deep.equal([]);
  });

  it('has Prometheus report up == 1 for every infrastructure target', async () => {
    const samples = await prometheusClient(c).query(`up{job=~"${INFRA_JOBS.join('|')}"}`);
    const jobs = new Set(samples.map((s) => s.metric.job));
    expect([...jobs]).to.have.members([...INFRA_JOBS]);
    expect(samples.filter((s) => s.metric.job === 'kafka')).to.have.length(3);
    for (const s of samples) expect(s.value, `${s.metric.job} ${s.metric.instance}`).to.equal(1);
  });

  it('keeps the repository toxiproxy.json equal to the default proxies, and runs exactly its configured ones', async () => {
    const declared = JSON.parse(fs.readFileSync(`${c.root}/toxiproxy.json`, 'utf8'));
    expect(proxyDecls(loadConfig({}, c.root))).to.deep.equal(declared);
    const running = Object.values(await toxiproxy(c).getAll()).map((p) => ({ name: p.name, listen: p.listen, upstream: p.upstream, enabled: true }));
    expect(running).to.have.deep.members(proxyDecls(c));
  });
});

/** Bytes Toxiproxy moved on the kafka client proxies, from its own Prometheus metrics. */
async function proxyBytes(c: LabConfig): Promise<number> {
  const text = await (await fetch(`http://${c.host}:${c.ports.toxiproxy}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('toxiproxy_proxy_sent_bytes_total') && /proxy="kafka-\d"/.test(l))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}
