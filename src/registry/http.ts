import express, { type NextFunction, type Request, type Response } from 'express';
import { Counter, Registry } from 'prom-client';
import { z } from 'zod';
import { COMPATIBILITY_LEVELS } from './compatibility';
import { RegistryError, type SchemaRegistry } from './registry';

const SchemaBody = z.object({ schema: z.string().min(1), schemaType: z.enum(['AVRO']).optional() }).passthrough();
const ConfigBody = z.object({ compatibility: z.enum(COMPATIBILITY_LEVELS) });

/** Express 5 types a route parameter as string | string[]; ours are single segments. */
const param = (r: Request, name: string) => String(r.params[name]);

function body<T>(schema: z.ZodType<T>, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new RegistryError(422, 42203, `Invalid request: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')} (only AVRO schemas; levels ${COMPATIBILITY_LEVELS.join(', ')})`);
  return r.data;
}

/**
 * The subset of Confluent Schema Registry's REST API that producers, consumers and operators use
 * (@kafkajs/confluent-schema-registry, curl): one route table, errors as `{error_code, message}`.
 */
export function registryApp(reg: SchemaRegistry): express.Express {
  const app = express();
  const metrics = new Registry();
  const registrations = new Counter({
    name: 'lab_schema_registry_registrations_total',
    help: 'POST /subjects/<subject>/versions answers, by subject and result (accepted = 200, rejected = 409 incompatible, invalid = 422)',
    labelNames: ['subject', 'result'],
    registers: [metrics],
  });
  app.get('/metrics', async (_req, res) => void res.type(metrics.contentType).send(await metrics.metrics()));
  // Clients send application/vnd.schemaregistry.v1+json; accept any JSON-ish type.
  app.use(express.json({ type: () => true, limit: '1mb' }));
  const ok = (fn: (req: Request) => unknown) => (req: Request, res: Response, next: NextFunction) => {
    try {
      res.type('application/vnd.schemaregistry.v1+json').send(JSON.stringify(fn(req)));
    } catch (e) {
      next(e);
    }
  };
  app.get('/', ok(() => ({})));
  app.get('/subjects', ok(() => reg.subjects()));
  app.get('/subjects/:subject/versions', ok((r) => reg.versions(param(r, 'subject'))));
  app.get('/subjects/:subject/versions/:version', ok((r) => reg.version(param(r, 'subject'), param(r, 'version'))));
  app.get('/subjects/:subject/versions/:version/schema', ok((r) => JSON.parse(reg.version(param(r, 'subject'), param(r, 'version')).schema)));
  app.post('/subjects/:subject/versions', ok((r) => {
    const result = (answer: string) => registrations.inc({ subject: param(r, 'subject'), result: answer });
    try {
      const out = reg.register(param(r, 'subject'), body(SchemaBody, r.body).schema);
      result('accepted');
      return out;
    } catch (e) {
      result(e instanceof RegistryError && e.status === 409 ? 'rejected' : 'invalid');
      throw e;
    }
  }));
  app.post('/subjects/:subject', ok((r) => reg.lookup(param(r, 'subject'), body(SchemaBody, r.body).schema)));
  app.delete('/subjects/:subject', ok((r) => reg.deleteSubject(param(r, 'subject'))));
  app.get('/schemas/ids/:id', ok((r) => reg.schemaById(Number(param(r, 'id')))));
  app.get('/schemas/types', ok(() => ['AVRO']));
  app.get('/config', ok(() => reg.config()));
  app.put('/config', ok((r) => reg.setConfig(body(ConfigBody, r.body).compatibility)));
  app.get('/config/:subject', ok((r) => reg.config(param(r, 'subject'), r.query.defaultToGlobal === 'true')));
  app.put('/config/:subject', ok((r) => reg.setConfig(body(ConfigBody, r.body).compatibility, param(r, 'subject'))));
  app.post('/compatibility/subjects/:subject/versions/:version', ok((r) => reg.testCompatibility(param(r, 'subject'), param(r, 'version'), body(SchemaBody, r.body).schema)));
  app.use((_req: Request, res: Response) => void res.status(404).json({ error_code: 404, message: 'HTTP 404 Not Found' }));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof RegistryError) return void res.status(err.status).json({ error_code: err.errorCode, message: err.message });
    if ((err as { type?: string }).type === 'entity.parse.failed') return void res.status(400).json({ error_code: 400, message: 'request body is not JSON' });
    console.error(err);
    res.status(500).json({ error_code: 50001, message: (err as Error).message });
  });
  return app;
}
