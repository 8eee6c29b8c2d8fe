import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Why a request is turned away, as the HTTP status and a message that says what to send instead. */
export interface Refusal {
  status: 403 | 415 | 421;
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
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The names a lab server answers to: every one listens on loopback, so no other name can be meant for it. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** Transfer-Encoding or a Content-Length above 0: the request carries a body. */
const hasBody = (h: IncomingHttpHeaders) =>
  header(h, 'transfer-encoding') !== undefined || Number(header(h, 'content-length') ?? 0) > 0;

/** application/json and application/<anything>+json (Confluent's application/vnd.schemaregistry.v1+json). */
export function isJsonType(contentType: string | undefined): boolean {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return media === 'application/json' || /^application\/[\w.+-]+\+json$/.test(media);
}

/**
 * DNS rebinding: a page on evil.example re-points its own name at 127.0.0.1 and then talks to a lab port as
 * same-origin, so neither Origin nor Sec-Fetch-Site gives it away, only Host does. A lab server answers only
 * to a loopback name with its own listening port (421 Misdirected Request otherwise).
 */
export function hostRefusal(req: RequestFacts, port: number): Refusal | undefined {
  const host = header(req.headers, 'host');
  const allowed = LOOPBACK_NAMES.map((name) => `${name}:${port}`);
  if (host !== undefined && allowed.includes(host.toLowerCase())) return undefined;
  return {
    status: 421,
    reason: `Host ${host ?? '(none)'} is not this server's name: address it as http://127.0.0.1:${port} (or localhost:${port}, [::1]:${port}); a lab server answers to its loopback address and own port only`,
  };
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

/** The host:port of an http: origin; the lab serves no https, so an https origin is never its own. */
function originHost(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    return u.protocol === 'http:' && u.host ? u.host : undefined; // "null" (sandboxed frames, file://) matches none
  } catch {
    return undefined; // not a URL: it names no origin, so it cannot be ours (refused by the caller)
  }
}

/**
 * A state change must come as JSON: a body that is not JSON is 415 (text/plain and form encodings are what a
 * cross-site form sends without asking), and so is a POST without a JSON content type even when empty (send
 * `{}`), because POST is the one state-changing method a page on another site may send without a CORS preflight.
 * A body-less PUT/PATCH/DELETE passes: a browser preflights those, and no lab server grants CORS, so only
 * non-browser clients (Confluent's, the engine's disarm) send them.
 */
export function contentTypeRefusal(req: RequestFacts): Refusal | undefined {
  const json = isJsonType(header(req.headers, 'content-type'));
  const post = req.method.toUpperCase() === 'POST';
  if (json || (!hasBody(req.headers) && !post)) return undefined;
  return {
    status: 415,
    reason: `unsupported content type ${header(req.headers, 'content-type') ?? '(none)'}: send the body as JSON (content-type: application/json or application/vnd.schemaregistry.v1+json${post ? '; a POST without data sends {}' : ''})`,
  };
}

/** Every check in order: Host (421), then cross-site (403), then the body of a state change (415). */
export function guardRefusal(req: RequestFacts, port: number): Refusal | undefined {
  const safe = SAFE_METHODS.has(req.method.toUpperCase());
  return (
    hostRefusal(req, port) ?? crossSiteRefusal(req) ?? (safe ? undefined : contentTypeRefusal(req))
  );
}

/**
 * Express middleware: every check of `guardRefusal` against the port the connection came in on, answered in the
 * app's own error shape by `respond`. Mounted before any route and any body parser, so a refused body is never read.
 */
export function httpGuard(respond: (res: Response, refusal: Refusal) => void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const refusal = guardRefusal(req, req.socket.localPort ?? 0);
    if (refusal) respond(res, refusal);
    else next();
  };
}

/**
 * The same guard for a plain node:http server (exporters, the services' hot routes, the engine's run metrics):
 * answers a refused request with `{error, status}` and returns true; returns false when the handler may go on.
 */
export function refuseRequest(req: IncomingMessage, res: ServerResponse): boolean {
  const refusal = guardRefusal(
    { method: req.method ?? 'GET', headers: req.headers },
    req.socket.localPort ?? 0,
  );
  if (!refusal) return false;
  const body = JSON.stringify({ error: refusal.reason, status: refusal.status });
  res
    .writeHead(refusal.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close', // a refused request's body is never read; do not reuse the socket behind it
    })
    .end(body);
  return true;
}
