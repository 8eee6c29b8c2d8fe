import express, { type NextFunction, type Request, type Response } from 'express';
import { Counter, Registry } from 'prom-client';
import { z } from 'zod';
import { httpGuard, isJsonType } from '../lib/http-guard';
import { COMPATIBILITY_LEVELS } from './compatibility';
import { RegistryError } from './errors';
import type { SchemaRegistry } from './registry';

const SchemaBody = z
  .object({
    schema: z.string().min(1),
    schemaType: z.string().optional(),
    references: z.array(z.unknown()).optional(),
  })
  .passthrough();
const ConfigBody = z.object({ compatibility: z.enum(COMPATIBILITY_LEVELS) });
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Express 5 types a route parameter as string | string[]; ours are single segments. */
const param = (r: Request, name: string) => String(r.params[name]);
const flag = (r: Request, name: string) => r.query[name] === 'true';

/** The submitted schema text; 42201 (Confluent's invalid schema) for anything but a plain Avro schema. */
function schemaOf(raw: unknown): string {
  const r = SchemaBody.safeParse(raw);
  if (!r.success)
    throw new RegistryError(
      422,
      42201,
      `Invalid schema: ${r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')} (expected {"schema": "<Avro schema as a JSON string>"})`,
    );
  if ((r.data.schemaType ?? 'AVRO') !== 'AVRO')
    throw new RegistryError(
      422,
      42201,
      `Invalid schema: schemaType ${r.data.schemaType} is not supported; the lab's registry holds AVRO schemas only`,
    );
  if (r.data.references?.length)
    throw new RegistryError(
      422,
      42201,
      "Invalid schema: schema references are not supported by the lab's registry; inline the referenced types",
    );
  return r.data.schema;
}

function levelOf(raw: unknown) {
  const r = ConfigBody.safeParse(raw);
  if (!r.success)
    throw new RegistryError(
      422,
      42203,
      `Invalid compatibility level. Valid values are ${COMPATIBILITY_LEVELS.join(', ')}`,
    );
  return r.data.compatibility;
}

/** Confluent's error shape for what express itself rejects (bad JSON, oversize bodies) and for the unexpected. */
function errorAnswer(err: unknown, res: Response) {
  if (err instanceof RegistryError)
    return void res.status(err.status).json({ error_code: err.errorCode, message: err.message });
  const type = (err as { type?: string }).type;
  if (type === 'entity.parse.failed')
    return void res.status(400).json({ error_code: 400, message: 'request body is not JSON' });
  if (type === 'entity.too.large')
    return void res.status(413).json({ error_code: 413, message: 'request body larger than 1 MB' });
  console.error(err);
  res.status(500).json({ error_code: 50001, message: (err as Error).message });
}

type Handler = (req: Request, res: Response, next: NextFunction) => void;

/** A route answering `fn`'s result as JSON, with Confluent's content type; a throw goes to the error handler. */
const answer =
  (fn: (req: Request) => unknown): Handler =>
  (req, res, next) => {
    try {
      res.type(CONTENT_TYPE).send(JSON.stringify(fn(req)));
    } catch (e) {
      next(e);
    }
  };

/** The schema text itself, byte for byte as registered (Confluent's …/schema endpoints). */
const raw =
  (fn: (req: Request) => string): Handler =>
  (req, res, next) => {
    try {
      res.type(CONTENT_TYPE).send(fn(req));
    } catch (e) {
      next(e);
    }
  };

const subject = (r: Request) => param(r, 'subject');
const version = (r: Request) => param(r, 'version');
const id = (r: Request) => Number(param(r, 'id'));

/** lab_schema_registry_registrations_total, in the app's own metrics registry. */
const registrationsCounter = (metrics: Registry) =>
  new Counter({
    name: 'lab_schema_registry_registrations_total',
    help: 'POST /subjects/<subject>/versions answers, by subject and result (accepted = 200, rejected = 409 incompatible, invalid = 422)',
    labelNames: ['subject', 'result'],
    registers: [metrics],
  });

/** POST /subjects/:subject/versions, counted by result: accepted, rejected (409 incompatible) or invalid. */
const registerRoute = (reg: SchemaRegistry, registrations: Counter<'subject' | 'result'>) =>
  answer((r) => {
    const result = (outcome: string) => registrations.inc({ subject: subject(r), result: outcome });
    try {
      const out = reg.register(subject(r), schemaOf(r.body));
      result('accepted');
      return out;
    } catch (e) {
      result(e instanceof RegistryError && e.status === 409 ? 'rejected' : 'invalid');
      throw e;
    }
  });

/** /subjects: list, versions, lookup, register, delete. */
function subjectRoutes(
  app: express.Express,
  reg: SchemaRegistry,
  registrations: Counter<'subject' | 'result'>,
) {
  app.get(
    '/subjects',
    answer((r) =>
      reg.subjects(
        flag(r, 'deleted'),
        typeof r.query.subjectPrefix === 'string' ? r.query.subjectPrefix : '',
      ),
    ),
  );
  app.get(
    '/subjects/:subject/versions',
    answer((r) => reg.versions(subject(r), flag(r, 'deleted'))),
  );
  app.get(
    '/subjects/:subject/versions/:version',
    answer((r) => reg.version(subject(r), version(r), flag(r, 'deleted'))),
  );
  app.get(
    '/subjects/:subject/versions/:version/schema',
    raw((r) => reg.version(subject(r), version(r), flag(r, 'deleted')).schema),
  );
  app.post('/subjects/:subject/versions', registerRoute(reg, registrations));
  app.post(
    '/subjects/:subject',
    answer((r) => reg.lookup(subject(r), schemaOf(r.body), flag(r, 'deleted'))),
  );
  app.delete(
    '/subjects/:subject',
    answer((r) => reg.deleteSubject(subject(r), flag(r, 'permanent'))),
  );
  app.delete(
    '/subjects/:subject/versions/:version',
    answer((r) => reg.deleteVersion(subject(r), version(r), flag(r, 'permanent'))),
  );
}

/** /schemas: the types, and a schema by id with where it is used. */
function schemaRoutes(app: express.Express, reg: SchemaRegistry) {
  app.get(
    '/schemas/types',
    answer(() => ['AVRO']),
  );
  app.get(
    '/schemas/ids/:id',
    answer((r) => reg.schemaById(id(r))),
  );
  app.get(
    '/schemas/ids/:id/schema',
    raw((r) => reg.schemaById(id(r)).schema),
  );
  app.get(
    '/schemas/ids/:id/versions',
    answer((r) => reg.subjectVersionsOfId(id(r), flag(r, 'deleted'))),
  );
  app.get(
    '/schemas/ids/:id/subjects',
    answer((r) => [
      ...new Set(reg.subjectVersionsOfId(id(r), flag(r, 'deleted')).map((u) => u.subject)),
    ]),
  );
}

/** /config (global and per subject) and /mode. */
function configRoutes(app: express.Express, reg: SchemaRegistry) {
  app.get(
    '/config',
    answer(() => reg.config()),
  );
  app.put(
    '/config',
    answer((r) => reg.setConfig(levelOf(r.body))),
  );
  app.get(
    '/config/:subject',
    answer((r) => reg.config(subject(r), flag(r, 'defaultToGlobal'))),
  );
  app.put(
    '/config/:subject',
    answer((r) => reg.setConfig(levelOf(r.body), subject(r))),
  );
  app.delete(
    '/config/:subject',
    answer((r) => reg.deleteConfig(subject(r))),
  );
  // The lab never imports or freezes: always READWRITE, which is what clients check before registering.
  app.get(
    '/mode',
    answer(() => ({ mode: 'READWRITE' })),
  );
}

/** /compatibility: test a schema against the versions the level requires, or against one version. */
function compatibilityRoutes(app: express.Express, reg: SchemaRegistry) {
  app.post(
    '/compatibility/subjects/:subject/versions',
    answer((r) =>
      reg.testCompatibility(subject(r), undefined, schemaOf(r.body), flag(r, 'verbose')),
    ),
  );
  app.post(
    '/compatibility/subjects/:subject/versions/:version',
    answer((r) =>
      reg.testCompatibility(subject(r), version(r), schemaOf(r.body), flag(r, 'verbose')),
    ),
  );
}

/**
 * The part of Confluent Schema Registry's REST API (7.7) that producers, consumers and operators use
 * (@kafkajs/confluent-schema-registry, Confluent's serializers, curl): one route table, errors as `{error_code, message}`.
 */
export function registryApp(reg: SchemaRegistry): express.Express {
  const app = express();
  const metrics = new Registry();
  const registrations = registrationsCounter(metrics);
  // Before any parser: a foreign Host (421), a cross-site page (403) or a non-JSON state change (415) never reaches a route.
  app.use(
    httpGuard(
      (res, r) => void res.status(r.status).json({ error_code: r.status, message: r.reason }),
    ),
  );
  app.get(
    '/metrics',
    async (_req, res) => void res.type(metrics.contentType).send(await metrics.metrics()),
  );
  app.use(express.json({ type: (req) => isJsonType(req.headers['content-type']), limit: '1mb' }));
  app.get(
    '/',
    answer(() => ({})),
  );
  subjectRoutes(app, reg, registrations);
  schemaRoutes(app, reg);
  configRoutes(app, reg);
  compatibilityRoutes(app, reg);
  app.use(
    (_req: Request, res: Response) =>
      void res.status(404).json({ error_code: 404, message: 'HTTP 404 Not Found' }),
  );
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) =>
    errorAnswer(err, res),
  );
  return app;
}
