import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Why a request is turned away, as the HTTP status and a message that says what to send instead. */
export interface Refusal {
  status: 403 | 415;
  reason: string;
}

/** What the checks look at: plain data, so they are tested without a server. */
export interface RequestFacts {
  method: string;
  headers: IncomingHttpHeaders;
}

const header = (h: IncomingHttpHeaders, name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** Transfer-Encoding or a Content-Length above 0: the request carries a body. */
const hasBody = (h: IncomingHttpHeaders) =>
  header(h, 'transfer-encoding') !== undefined || Number(header(h, 'content-length') ?? 0) > 0;

/** application/json and application/<anything>+json (Confluent's application/vnd.schemaregistry.v1+json). */
export function isJsonType(contentType: string | undefined): boolean {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return media === 'application/json' || /^application\/[\w.+-]+\+json$/.test(media);
}

/**
 * A browser page on another origin must not drive the lab's endpoints (a form or a no-cors fetch needs no CORS
 * preflight). Browsers say where a request comes from: Sec-Fetch-Site (all current ones) and Origin (on every
 * cross-origin fetch and every non-GET). Non-browser clients (curl, the CLI, kafkajs) send neither and pass.
 * A top-level GET navigation (following a link to the UI) reads nothing cross-site and changes nothing, so it passes.
 */
export function crossSiteRefusal(req: RequestFacts): Refusal | undefined {
  const site = header(req.headers, 'sec-fetch-site');
  const navigation =
    SAFE_METHODS.has(req.method.toUpperCase()) &&
    header(req.headers, 'sec-fetch-mode') === 'navigate';
  if (site && site !== 'same-origin' && site !== 'none' && !navigation) {
    return {
      status: 403,
      reason: `cross-site request refused (Sec-Fetch-Site: ${site}): this endpoint answers its own pages and non-browser clients (curl, the lab CLI) only`,
    };
  }
  const origin = header(req.headers, 'origin');
  if (origin !== undefined && !navigation && originHost(origin) !== header(req.headers, 'host')) {
    return {
      status: 403,
      reason: `cross-origin request refused (Origin: ${origin}, Host: ${header(req.headers, 'host') ?? '-'}): this endpoint answers its own pages and non-browser clients (curl, the lab CLI) only`,
    };
  }
  return undefined;
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host || undefined; // "null" (sandboxed frames, file://) matches no host
  } catch {
    return undefined;
  }
}

/** A body that is not JSON is 415: text/plain and form encodings are what a cross-site form can send without asking. */
export function contentTypeRefusal(req: RequestFacts): Refusal | undefined {
  if (!hasBody(req.headers) || isJsonType(header(req.headers, 'content-type'))) return undefined;
  return {
    status: 415,
    reason: `unsupported content type ${header(req.headers, 'content-type') ?? '(none)'}: send the body as JSON (content-type: application/json or application/vnd.schemaregistry.v1+json)`,
  };
}

/**
 * Express middleware: cross-site refusal (403), then non-JSON bodies (415), answered in the app's own error
 * shape by `respond`. Mounted before any route and any body parser, so a refused body is never read.
 */
export function httpGuard(respond: (res: Response, refusal: Refusal) => void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const refusal = crossSiteRefusal(req) ?? contentTypeRefusal(req);
    if (refusal) respond(res, refusal);
    else next();
  };
}
