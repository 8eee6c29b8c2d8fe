import { labPool } from '../../lib/db';
import { dlqTopic } from '../../lib/events';
import { labKafka } from '../../lib/kafka';
import { serviceRegistry } from '../../lib/metrics';
import { ensureTopics } from '../../lib/topics';
import { HttpError, serve, serviceApp, serviceContext } from '../common/app';
import { loadCommandConfig } from './config';
import { commandService } from './service';

/** command-service: REST writes to MariaDB; the event goes out through the outbox (outbox) or by itself (direct). */
async function main() {
  const cfg = loadCommandConfig();
  const pool = labPool(cfg.lab);
  const kafka = labKafka(cfg.lab, 'command-service');
  const ctx = serviceContext('command-service', serviceRegistry('command-service'), async () => ({
    mode: cfg.mode,
    topic: cfg.topic,
  }));
  await ensureTopics(kafka, [cfg.topic, dlqTopic(cfg.topic)]);
  // acks=all on every send; idempotent so a retried send after a lost ack does not duplicate.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const svc = commandService(cfg, ctx, pool, producer);
  const id = (raw: string) => {
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new HttpError(400, `product id must be a positive integer, got "${raw}"`);
    return n;
  };
  const app = serviceApp(ctx, (a) => {
    a.post('/products', async (req, res) => void res.status(201).json(await svc.create(req.body)));
    a.put(
      '/products/:id',
      async (req, res) => void res.json(await svc.update(id(String(req.params.id)), req.body)),
    );
    a.get(
      '/products/:id',
      async (req, res) => void res.json(await svc.get(id(String(req.params.id)))),
    );
  });
  serve(ctx, app, cfg.port, async () => {
    await producer.disconnect();
    await pool.end();
  });
}

main().catch((e) => {
  console.error(`command-service failed to start: ${(e as Error).message}`);
  process.exit(1);
});
