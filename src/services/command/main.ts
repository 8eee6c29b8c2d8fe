import { HttpError, serve, serviceApp } from '../common/app';
import { connectedIdempotentProducer, runService, startServiceBase } from '../start';
import { loadCommandConfig } from './config';
import { commandService } from './service';

/** A product id from the URL: a positive safe integer, else 400. */
function productIdParam(raw: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new HttpError(400, `product id must be a positive integer, got "${raw}"`);
  return n;
}

/** command-service: REST writes to MariaDB; the event goes out through the outbox (outbox) or by itself (direct). */
async function main() {
  const cfg = loadCommandConfig();
  const { ctx, pool, kafka } = await startServiceBase({
    name: 'command-service',
    lab: cfg.lab,
    topic: cfg.topic,
    kafkaClientId: 'command-service',
    health: async () => ({ mode: cfg.mode, topic: cfg.topic }),
  });
  // acks=all on every send; idempotent so a retried send after a lost ack does not duplicate.
  const producer = await connectedIdempotentProducer(kafka);
  const svc = commandService(cfg, ctx, pool, producer);
  const id = productIdParam;
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

runService('command-service', main);
