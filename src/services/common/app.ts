import express, { type NextFunction, type Request, type Response } from 'express';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import pino from 'pino';
import { Counter, type Registry } from 'prom-client';
import { LabError, UnknownNameError } from '../../lib/errors';
import { FAILPOINT_NAMES, Failpoints } from '../../lib/failpoints';
import { refuseRequest } from '../../lib/http-guard';

/** An error with its HTTP status; the error middleware writes `{error, status}`. */
export class HttpError extends LabError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ServiceContext {
  name: string;
  log: pino.Logger;
  registry: Registry;
  failpoints: Failpoints;
  /** Reported by /health: e.g. the service's modes and whether its dependencies answer. */
  health: () => Promise<Record<string, unknown>>;
}

/** Set while a crash failpoint waits for its last scrape: the service takes no new work in that window. */
export const frozen = { value: false, scraped: [] as (() => void)[] };

/** Resolves after the next /metrics scrape, or after `maxMs` when nothing scrapes us (e.g. no Prometheus). */
function nextScrape(maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, maxMs);
    frozen.scraped.push(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

export function serviceContext(
  name: string,
  registry: Registry,
  health: ServiceContext['health'] = async () => ({}),
): ServiceContext {
  const log = pino({ name, level: process.env.LAB_LOG_LEVEL ?? 'info' });
  const scrapeWaitMs = Number(process.env.LAB_CRASH_SCRAPE_WAIT_MS ?? 2500);
  // The failpoint's own report of each firing: the engine's `facts.failpointsFired` (a crash one is scraped before the kill).
  const fired = new Counter({
    name: 'lab_failpoint_fired_total',
    help: 'failpoint firings in this process',
    labelNames: ['failpoint', 'action'],
    registers: [registry],
  });
  // A crash's line is the supervisor's only way to tell "killed at a failpoint" from "failed to start" (the process
  // is SIGKILLed, so an async log never flushes it), hence written synchronously and at any LAB_LOG_LEVEL.
  const crashMark = pino({ name, level: 'warn' }, pino.destination({ fd: 1, sync: true }));
  const failpoints = new Failpoints(
    (fp, a) => {
      fired.inc({ failpoint: fp, action: a.action });
      (a.action === 'crash' ? crashMark : log).warn(
        { failpoint: fp, action: a.action },
        'failpoint fired',
      );
    },
    async () => {
      frozen.value = true;
      if (scrapeWaitMs > 0) await nextScrape(scrapeWaitMs);
    },
  );
  failpoints.armFromSpec(process.env.LAB_FAILPOINTS);
  return { name, log, registry, failpoints, health };
}

/**
 * The express app every service shares: /health, /metrics, /failpoints; the service adds its own routes through
 * `routes`. Errors from handlers become `{error, status}` with the status they carry, unknown ones 500.
 */
export function serviceApp(
  ctx: ServiceContext,
  routes: (app: express.Express) => void = () => {},
): express.Express {
  const app = express();
  app.get('/metrics', async (_req, res) => {
    res.type(ctx.registry.contentType).send(await ctx.registry.metrics());
    for (const done of frozen.scraped.splice(0)) done();
  });
  // A service frozen at a crash failpoint accepts nothing more: the request would never have been served.
  app.use((_req, _res, next) => {
    if (!frozen.value) next();
  });
  app.use(express.json({ limit: '1mb' }));
  app.get('/health', async (_req, res) => {
    res.json({ service: ctx.name, status: 'ok', pid: process.pid, ...(await ctx.health()) });
  });
  app.get('/failpoints', (_req, res) => {
    res.json({ valid: FAILPOINT_NAMES, armed: ctx.failpoints.list() });
  });
  app.post('/failpoints/:name', (req, res) => {
    const action = ctx.failpoints.arm(String(req.params.name), req.body);
    ctx.log.info({ failpoint: req.params.name, ...action }, 'failpoint armed');
    res.json({ name: req.params.name, ...action });
  });
  app.delete('/failpoints/:name', (req, res) => {
    ctx.failpoints.disarm(String(req.params.name));
    res.json({ disarmed: req.params.name });
  });
  app.delete('/failpoints', (_req, res) => {
    ctx.failpoints.disarm();
    res.json({ disarmed: 'all' });
  });
  routes(app);
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status =
      err instanceof HttpError
        ? err.status
        : err instanceof UnknownNameError
          ? 404
          : (err as { name?: string })?.name === 'ZodError'
            ? 400
            : 500;
    if (status === 500) ctx.log.error({ err }, 'unhandled error');
    res.status(status).json({ error: (err as Error).message, status });
  });
  return app;
}

/**
 * A route served by node:http directly, before express: a hot read path (query-service's cache hit) where
 * express' middleware stack and router cost more than the Redis GET behind it. Returns the status and JSON body;
 * an HttpError becomes `{error, status}` like express' error handler does.
 */
export interface HotRoute {
  method: string;
  /** matched against the URL's path; the captures are passed to `handle` */
  path: RegExp;
  handle(params: string[]): Promise<{ status: number; body: unknown }>;
}

function serveHot(
  ctx: ServiceContext,
  route: HotRoute,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  if (req.method !== route.method || frozen.value) return false; // frozen: express holds the request unanswered
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const m = route.path.exec(q < 0 ? url : url.slice(0, q));
  if (!m) return false;
  const reply = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res
      .writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      })
      .end(text);
  };
  const decode = (p: string) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw new HttpError(400, `malformed URL: ${url}`);
    }
  };
  Promise.resolve()
    .then(() => route.handle(m.slice(1).map(decode)))
    .then(
      (r) => reply(r.status, r.body),
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (status === 500) ctx.log.error({ err }, 'unhandled error');
        reply(status, { error: (err as Error).message, status });
      },
    );
  return true;
}

/** Listen on loopback; on SIGTERM/SIGINT run `shutdown` (bounded) and exit 0. */
export function serve(
  ctx: ServiceContext,
  app: express.Express,
  port: number,
  shutdown: () => Promise<void>,
  hot: HotRoute[] = [],
): Server {
  // The guard sits in front of the hot routes and express alike: a foreign Host (DNS rebinding), another site's
  // page or a non-JSON state change never reaches a failpoint, a mode or the cache.
  const server = createServer((req, res) => {
    if (refuseRequest(req, res)) return;
    if (!hot.some((r) => serveHot(ctx, r, req, res))) void app(req, res);
  });
  server.listen(port, '127.0.0.1', () => ctx.log.info({ port }, `${ctx.name} listening`));
  server.on('error', (e: NodeJS.ErrnoException) => {
    ctx.log.error(
      e.code === 'EADDRINUSE'
        ? `port ${port} busy: run \`chaos services down\` or set its LAB_*_PORT`
        : e.message,
    );
    process.exit(2);
  });
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    ctx.log.info({ sig }, 'graceful shutdown');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    frozen.value = true; // no new work over HTTP; /metrics still answers
    await shutdown().catch((e) => ctx.log.error({ err: e }, 'shutdown error'));
    // One last scrape, so what this process counted since the previous one reaches Prometheus (bounded).
    const wait = Number(process.env.LAB_CRASH_SCRAPE_WAIT_MS ?? 2500);
    if (wait > 0) await nextScrape(wait);
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return server;
}
