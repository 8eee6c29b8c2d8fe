import * as http from 'node:http';
import * as path from 'node:path';
import express from 'express';
import type { Admin } from 'kafkajs';
import type { LabConfig } from '../lib/config';
import { httpGuard } from '../lib/http-guard';
import { labKafka } from '../lib/kafka';
import { infraComponents, supervisorFor } from '../runtime/stack';
import { experimentRows } from './experiments';
import { chaosState, serviceStatus, topicRows } from './live';

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
      value.catch(() => (last = undefined));
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
  // Before every route: another site's page cannot read the lab's internals or post to it (403), nor send non-JSON bodies (415).
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
      await admin?.disconnect().catch(() => {});
      admin = undefined; // reconnect on the next refresh (a broker may be down: that is what a lab does)
      throw e;
    }
  });
  const live = cached(1000, async () => {
    const services = await serviceStatus(c);
    const sup = supervisorFor(c);
    const infra = infraComponents(c).map((x) => ({ name: x.name, running: sup.isAlive(x.name) }));
    return { services, infra, chaos: await chaosState(c, services) };
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
  return { app, close: async () => void (await admin?.disconnect().catch(() => {})) };
}

/** Listens on 127.0.0.1 only: the UI can arm nothing, but it shows the lab's internals. */
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
