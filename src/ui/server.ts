import * as http from 'node:http';
import * as path from 'node:path';
import express from 'express';
import type { Admin } from 'kafkajs';
import type { LabConfig } from '../lib/config';
import { bestEffort } from '../lib/best-effort';
import { httpGuard } from '../lib/http-guard';
import { labKafka } from '../lib/kafka';
import { infraComponents, supervisorFor } from '../runtime/stack';
import { redisClusterComponents } from '../runtime/components/redis-cluster';
import { clusterNodeStates } from '../runtime/redis-cluster-up';
import { LabError } from '../lib/errors';
import { prometheusClient } from '../runtime/stack';
import { loadDashboards, PanelDataRequest, panelData } from './dashboards';
import { experimentRows } from './experiments';
import { BadRequestError, catalog, healFromUi, injectFromUi, removeFromUi } from './faults';
import { chaosState, serviceStatus, topicRows } from './live';
import { RunControl, RunRequestError } from './runs';

export interface UiOptions {
  /** where `chaos exp run` wrote its journals (default <root>/reports) */
  reportsDir: string;
  port: number;
  /** only topics whose name matches (e.g. ^lab\.) */
  topicFilter?: RegExp;
}

/** One computation at a time, reused for `ttlMs`: several open tabs do not multiply the load on the brokers. */
function cached<T>(ttlMs: number, fn: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > ttlMs) {
      const value = fn();
      last = { at: Date.now(), value };
      value.catch(() => (last = undefined)); // the caller gets the rejection; only the cache forgets it
    }
    return last.value;
  };
}

/**
 * The lab UI: a static page (ui/public, plain JS polling these endpoints) and JSON endpoints over the same
 * modules the CLI uses: experiments and their last verdicts, topics' offsets and group lag, active faults,
 * services and their modes. Reports are served from the reports directory.
 */
export function uiApp(
  c: LabConfig,
  o: UiOptions,
): { app: express.Express; close: () => Promise<void> } {
  const app = express();
  // Before every route: a foreign Host (DNS rebinding, 421), another site's page (403) and a non-JSON state change (415) reach nothing.
  app.use(
    httpGuard((res, r) => void res.status(r.status).json({ error: r.reason, status: r.status })),
  );
  const kafka = labKafka(c, 'lab-ui');
  let admin: Admin | undefined;
  const connected = async () => {
    if (!admin) {
      const a = kafka.admin();
      await a.connect();
      admin = a;
    }
    return admin;
  };
  const topics = cached(1500, async () => {
    try {
      return await topicRows(c, kafka, await connected(), { filter: o.topicFilter });
    } catch (e) {
      await bestEffort(
        admin?.disconnect(),
        'disconnecting the UI admin client after a failed read',
      );
      admin = undefined; // reconnect on the next refresh (a broker may be down: that is what a lab does)
      throw e;
    }
  });
  const live = cached(1000, async () => {
    const services = await serviceStatus(c);
    const sup = supervisorFor(c);
    const infra = infraComponents(c).map((x) => ({ name: x.name, running: sup.isAlive(x.name) }));
    // The Redis Cluster only when `chaos up --redis cluster` (or an experiment) started it.
    const withCluster = redisClusterComponents(c).some((x) => sup.read(x.name));
    const redisCluster = withCluster ? await clusterNodeStates(c, sup) : null;
    return { services, infra, redisCluster, chaos: await chaosState(c, services) };
  });

  const json =
    (fn: () => Promise<unknown>) => async (_req: express.Request, res: express.Response) => {
      try {
        res.json({ at: new Date().toISOString(), ...((await fn()) as object) });
      } catch (e) {
        res.status(503).json({ error: (e as Error).message, status: 503 });
      }
    };
  app.get('/api/health', (_req, res) => void res.json({ status: 'ok', pid: process.pid }));
  mountCockpit(app, c, o);
  app.get(
    '/api/experiments',
    json(async () => ({
      reportsDir: o.reportsDir,
      experiments: experimentRows(
        c.root,
        o.reportsDir,
        (f) => `/reports/${path.relative(o.reportsDir, f).split(path.sep).join('/')}`,
      ),
    })),
  );
  app.get(
    '/api/topics',
    json(async () => ({ topics: await topics() })),
  );
  app.get('/api/live', json(live));
  // Markdown reports read best as text; report.html as a page.
  app.use(
    '/reports',
    express.static(o.reportsDir, {
      index: false,
      setHeaders: (res, p) =>
        p.endsWith('.md') && res.setHeader('content-type', 'text/plain; charset=utf-8'),
    }),
  );
  app.use(express.static(path.join(c.root, 'ui', 'public')));
  return { app, close: () => bestEffort(admin?.disconnect(), 'disconnecting the UI admin client') };
}

/** The HTTP status of a refused or failed request: the client's mistake (400), a wait (409), or ours (500). */
function statusOf(e: unknown): number {
  if (e instanceof RunRequestError) return e.status;
  if (e instanceof BadRequestError) return 400;
  return e instanceof LabError ? 502 : 500;
}

const answer =
  (fn: (req: express.Request) => Promise<unknown> | unknown, ok = 200) =>
  async (req: express.Request, res: express.Response) => {
    try {
      res.status(ok).json(await fn(req));
    } catch (e) {
      res.status(statusOf(e)).json({ error: (e as Error).message, status: statusOf(e) });
    }
  };

/**
 * Run and watch, inject and heal, live panels. State-changing routes are POSTs with JSON bodies: the guard in
 * front of every route refuses them under a foreign Host (421), from another site (403) and as forms (415).
 */
function mountCockpit(app: express.Express, c: LabConfig, o: UiOptions) {
  const runs = new RunControl(c, o.reportsDir);
  const prom = prometheusClient(c);
  const dashboards = loadDashboards(c.root);
  const reportUrl = (file: string) => {
    const rel = path.relative(o.reportsDir, file);
    return rel.startsWith('..') || path.isAbsolute(rel)
      ? null
      : `/reports/${rel.split(path.sep).join('/')}`;
  };
  app.use(express.json({ limit: '64kb' }));
  app.get(
    '/api/runs/current',
    answer(() => runs.state()),
  );
  app.post(
    '/api/runs',
    answer((req) => runs.start(req.body), 202),
  );
  app.post(
    '/api/runs/stop',
    answer(() => runs.stop(), 202),
  );
  // Server-Sent Events: the progress journal from its start (the current or last run), then every new line.
  app.get('/api/runs/events', (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    let offset = 0;
    let lastState = '';
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const tick = () => {
      const r = runs.events(offset);
      if (r.reset) send('reset', {});
      offset = r.offset;
      for (const e of r.events)
        send(
          'run',
          'report' in e && e.report
            ? { ...e, url: reportUrl(e.report) }
            : e.type === 'end'
              ? { ...e, urls: e.reports.map(reportUrl) }
              : e,
        );
      const state = JSON.stringify(runs.state());
      if (state !== lastState) send('state', JSON.parse(state));
      lastState = state;
    };
    tick();
    const timer = setInterval(tick, 500);
    req.on('close', () => clearInterval(timer));
  });
  app.get(
    '/api/catalog',
    answer(() => ({ faults: catalog() })),
  );
  app.post(
    '/api/inject',
    answer((req) => injectFromUi(c, req.body)),
  );
  app.post(
    '/api/faults/remove',
    answer((req) => removeFromUi(c, req.body)),
  );
  app.post(
    '/api/heal',
    answer(() => healFromUi(c)),
  );
  app.get(
    '/api/dashboards',
    answer(() => ({ dashboards })),
  );
  app.get(
    '/api/panel-data',
    answer(async (req) => {
      const q = PanelDataRequest.safeParse(req.query);
      if (!q.success)
        throw new BadRequestError(
          q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      try {
        return await panelData(prom, dashboards, q.data);
      } catch (e) {
        // an unknown dashboard or panel is the request's fault; Prometheus down is ours
        if (e instanceof LabError && /^(unknown dashboard|dashboard )/.test(e.message))
          throw new BadRequestError(e.message);
        throw e;
      }
    }),
  );
  app.use('/vendor/uplot', express.static(path.join(c.root, 'node_modules', 'uplot', 'dist')));
}

/** Listens on 127.0.0.1 only: the UI can run experiments and inject faults, so no other host may reach it. */
export async function serveUi(
  c: LabConfig,
  o: UiOptions,
): Promise<{ server: http.Server; url: string; close: () => Promise<void> }> {
  const { app, close } = uiApp(c, o);
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, c.host, () => resolve());
  });
  return {
    server,
    url: `http://${c.host}:${o.port}`,
    close: async () => {
      await close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
