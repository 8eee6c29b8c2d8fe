import { serve, serviceApp } from '../common/app';
import { connectedIdempotentProducer, runService, startServiceBase } from '../start';
import { loadConsumerConfig } from './config';
import { productConsumer } from './consumer';
import { groupLag } from './lag';

/** consumer-service: applies product events to the read model and the side-effect ledger; failures go to the DLQ. */
async function main() {
  const cfg = loadConsumerConfig();
  let health = async (): Promise<Record<string, unknown>> => ({});
  const { ctx, pool, kafka } = await startServiceBase({
    name: 'consumer-service',
    lab: cfg.lab,
    topic: cfg.topic,
    kafkaClientId: `consumer-service-${cfg.group}`,
    pool: { connectionLimit: 4 },
    health: () => health(),
  });
  // Short session: after a crash (SIGKILL) the group rebalances in ~6 s instead of 30, so restarts are quick.
  const consumer = kafka.consumer({
    groupId: cfg.group,
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
    rebalanceTimeout: 10_000,
    allowAutoTopicCreation: false,
  });
  const [, dlqProducer] = await Promise.all([
    consumer.connect(),
    connectedIdempotentProducer(kafka),
  ]);
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

runService('consumer-service', main);
