import { avroEventEncoder } from '../../lib/avro-events';
import { decodeProductEvent } from '../../lib/events';
import { schemaRegistryUrl } from '../../runtime/components/schema-registry';
import { serve, serviceApp } from '../common/app';
import { connectedIdempotentProducer, runService, startServiceBase } from '../start';
import { loadRelayConfig, type RelayConfig } from './config';
import { outboxRelay, type EncodeValue } from './relay';

/** The record value encoder RELAY_ENCODING asks for: undefined (JSON as written) or Avro. */
function valueEncoder(cfg: RelayConfig): EncodeValue | undefined {
  if (cfg.encoding !== 'avro') return undefined;
  const avro = avroEventEncoder(schemaRegistryUrl(cfg.lab), cfg.lab.root, cfg.schema, cfg.topic);
  return (payload) => avro.encode(decodeProductEvent(payload));
}

/** outbox-relay: publishes the outbox table to Kafka. Exposes only /health, /metrics and /failpoints. */
async function main() {
  const cfg = loadRelayConfig();
  let health = async (): Promise<Record<string, unknown>> => ({});
  const { ctx, pool, kafka } = await startServiceBase({
    name: cfg.name,
    lab: cfg.lab,
    topic: cfg.topic,
    kafkaClientId: `outbox-relay-${cfg.shard.index}`,
    pool: { connectionLimit: 4 },
    health: () => health(),
  });
  // Idempotent with one request in flight: broker-side retries neither duplicate nor reorder within a batch.
  const producer = await connectedIdempotentProducer(kafka);
  const relay = outboxRelay(cfg, ctx, pool, producer, valueEncoder(cfg));
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

runService('outbox-relay', main);
