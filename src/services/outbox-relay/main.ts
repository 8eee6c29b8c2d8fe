import { avroEventEncoder } from '../../lib/avro-events';
import { labPool } from '../../lib/db';
import { decodeProductEvent, dlqTopic } from '../../lib/events';
import { labKafka } from '../../lib/kafka';
import { serviceRegistry } from '../../lib/metrics';
import { ensureTopics } from '../../lib/topics';
import { schemaRegistryUrl } from '../../runtime/components/schema-registry';
import { serve, serviceApp, serviceContext } from '../common/app';
import { loadRelayConfig } from './config';
import { outboxRelay, type EncodeValue } from './relay';

/** outbox-relay: publishes the outbox table to Kafka. Exposes only /health, /metrics and /failpoints. */
async function main() {
  const cfg = loadRelayConfig();
  const pool = labPool(cfg.lab, { connectionLimit: 4 });
  const kafka = labKafka(cfg.lab, `outbox-relay-${cfg.shard.index}`);
  let health = async (): Promise<Record<string, unknown>> => ({});
  const ctx = serviceContext(cfg.name, serviceRegistry(cfg.name), () => health());
  await ensureTopics(kafka, [cfg.topic, dlqTopic(cfg.topic)]);
  // Idempotent with one request in flight: broker-side retries neither duplicate nor reorder within a batch.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  let encode: EncodeValue | undefined;
  if (cfg.encoding === 'avro') {
    const avro = avroEventEncoder(schemaRegistryUrl(cfg.lab), cfg.lab.root, cfg.schema, cfg.topic);
    encode = (payload) => avro.encode(decodeProductEvent(payload));
  }
  const relay = outboxRelay(cfg, ctx, pool, producer, encode);
  health = relay.health;
  serve(ctx, serviceApp(ctx), cfg.port, async () => {
    await relay.stop();
    await producer.disconnect();
    await pool.end();
  });
  // Serving first: a failpoint armed at boot (LAB_FAILPOINTS) that fires on the first batch then crashes a process
  // that was already up, not one that "exited during start" (the 10 ms poll reaches it before /health otherwise).
  void relay.start(); // the loop runs until stop(), which awaits it
}

main().catch((e) => {
  console.error(`outbox-relay failed to start: ${(e as Error).message}`);
  process.exit(1);
});
