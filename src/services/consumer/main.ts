import { labPool } from '../../lib/db';
import { dlqTopic } from '../../lib/events';
import { labKafka } from '../../lib/kafka';
import { serviceRegistry } from '../../lib/metrics';
import { ensureTopics } from '../../lib/topics';
import { serve, serviceApp, serviceContext } from '../common/app';
import { loadConsumerConfig } from './config';
import { productConsumer } from './consumer';
import { groupLag } from './lag';

/** consumer-service: applies product events to the read model and the side-effect ledger; failures go to the DLQ. */
async function main() {
  const cfg = loadConsumerConfig();
  const pool = labPool(cfg.lab, { connectionLimit: 4 });
  const kafka = labKafka(cfg.lab, `consumer-service-${cfg.group}`);
  let health = async (): Promise<Record<string, unknown>> => ({});
  const ctx = serviceContext('consumer-service', serviceRegistry('consumer-service'), () =>
    health(),
  );
  await ensureTopics(kafka, [cfg.topic, dlqTopic(cfg.topic)]);
  // Short session: after a crash (SIGKILL) the group rebalances in ~6 s instead of 30, so restarts are quick.
  const consumer = kafka.consumer({
    groupId: cfg.group,
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
    rebalanceTimeout: 10_000,
    allowAutoTopicCreation: false,
  });
  const dlqProducer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await Promise.all([consumer.connect(), dlqProducer.connect()]);
  const svc = productConsumer(cfg, ctx, pool, consumer, dlqProducer);
  health = svc.health;
  const lag = groupLag(cfg, ctx, kafka);
  // Serving first: a failpoint armed at boot (LAB_FAILPOINTS) that fires on the backlog then crashes a process that
  // was up — not one that "exited during start", which its supervisor (the engine, a test) cannot tell from a bug.
  serve(ctx, serviceApp(ctx), cfg.port, async () => {
    await lag.stop();
    await consumer.disconnect();
    await dlqProducer.disconnect();
    await pool.end();
  });
  await svc.start();
  await lag.start();
}

main().catch((e) => {
  console.error(`consumer-service failed to start: ${(e as Error).message}`);
  process.exit(1);
});
