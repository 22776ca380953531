/**
 * Renders every failure as `{ "error": { "code", "message", "details"? } }` with the right status:
 * 4xx for what the caller can fix, 503 + Retry-After for a dependency that is down, and 500 (with
 * the cause only in the server log) for our own bugs. A user can never make this throw.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { httpStatusOf, type ErrorCode } from '../domain/error-codes.js';
import { CrucibleError } from '../domain/errors.js';
import { drainRequest } from './drain-request.js';
import { unsupportedMediaType } from './json-body.js';

/** A body for `code` with the status the catalogue gives it. */
function rendered(code: ErrorCode, message: string, details?: unknown): Rendered {
  return { status: httpStatusOf(code), body: { error: { code, message, ...(details === undefined ? {} : { details }) } } };
}

interface Rendered {
  status: number;
  /** The ErrorBody shape, with the code checked against the catalogue at compile time. */
  body: { error: { code: ErrorCode; message: string; details?: unknown } };
  retryAfterS?: number;
}

const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  'SQLITE_BUSY',
]);

/** Errors that mean "a database/queue/bus is down or overloaded", not "the request is wrong". */
export function isDependencyOutage(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof e.code === 'string' && OUTAGE_CODES.has(e.code)) return true;
  const text = `${String(e.name)} ${String(e.message)}`;
  return /Connection is closed|MaxRetriesPerRequest|Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|Stream isn't writeable|ECONNREFUSED|database is locked/i.test(
    text,
  );
}

/** At most this many validation issues are listed (a 500-item batch can have thousands). */
const MAX_ISSUES = 50;
const MAX_ISSUES_IN_MESSAGE = 5;

/** Generic codes for framework 4xx errors we have no specific mapping for. */
const ERROR_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  411: 'length_required',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  431: 'headers_too_large',
};

/** The client went away (or broke the connection) while its body was being read. */
function isClientAbort(err: FastifyError | Error, request: FastifyRequest): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return (e.code === 'ECONNRESET' || e.code === 'ECONNABORTED') && (e.message === 'aborted' || request.raw.destroyed);
}

function render(err: FastifyError | Error, request: FastifyRequest): Rendered {
  if (err instanceof CrucibleError) {
    return { ...rendered(err.code, err.message, err.details), retryAfterS: err.retryAfterS };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err as { validationContext?: string }).validationContext ?? 'body';
    if (where === 'body' && request.body === undefined) {
      return rendered('missing_body', 'This endpoint needs a JSON object as the body (Content-Type: application/json); the request had none.');
    }
    const all = err.validation.map((v) => ({
      location: where,
      path: v.instancePath.split('/').filter(Boolean),
      message: v.message ?? 'invalid',
    }));
    const details = all.slice(0, MAX_ISSUES);
    // Issue texts may quote the input (e.g. a thousand unknown keys): each is clipped in the summary.
    const clip = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}…` : text);
    const shown = all.slice(0, MAX_ISSUES_IN_MESSAGE).map((d) => clip(d.path.length ? `${d.path.join('.')}: ${d.message}` : d.message));
    const more = all.length > MAX_ISSUES_IN_MESSAGE ? ` (and ${all.length - MAX_ISSUES_IN_MESSAGE} more problems)` : '';
    return rendered('invalid_request', `Invalid ${where}: ${shown.join('; ')}${more}`, details);
  }
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_VALIDATION':
      // A validator that threw instead of reporting issues (e.g. on a pathological value).
      return rendered('invalid_request', `Invalid ${(fe as { validationContext?: string }).validationContext ?? 'request'}: it could not be validated.`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return rendered('payload_too_large', `Request body is larger than the ${request.server.initialConfig.bodyLimit} bytes this server accepts.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return render(unsupportedMediaType(request.headers['content-type']), request);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return rendered('invalid_json', 'The body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return rendered('invalid_json', `The body is not valid JSON: ${fe.message}`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return rendered('invalid_content_length', 'The body is not as long as its Content-Length header says.');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_INVALID_URL':
      return rendered('invalid_url', 'The URL is not valid: its path must be percent-encoded UTF-8.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return rendered('invalid_request', `Invalid params: a path segment is longer than ${request.server.initialConfig.maxParamLength ?? 100} characters.`, [
        { location: 'params', path: [], message: 'too long' },
      ]);
  }
  if (isClientAbort(err, request)) {
    return rendered('request_aborted', 'The connection was closed before the whole request was received; nothing was done.');
  }
  if (err instanceof SyntaxError && fe.statusCode === 400) {
    return rendered('invalid_json', `The body is not valid JSON: ${err.message}`);
  }
  if (isDependencyOutage(err)) {
    return {
      ...rendered('dependency_unavailable', 'A backing service (database or queue) is unavailable right now; nothing was changed. Retry shortly.'),
      retryAfterS: 2,
    };
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: { code: ERROR_CODES[fe.statusCode] ?? 'bad_request', message: fe.message } } };
  }
  return rendered('internal_error', 'An internal error occurred; it has been logged.');
}

export function sendError(reply: FastifyReply, rendered: Rendered): FastifyReply {
  if (rendered.retryAfterS !== undefined) reply.header('Retry-After', String(rendered.retryAfterS));
  if (rendered.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="crucible"');
  return reply.code(rendered.status).type('application/json').send(rendered.body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = render(err, request);
    if (answer.status === 500) request.log.error({ err }, 'request failed');
    else if (answer.status === 503) request.log.warn({ code: answer.body.error.code, cause: err.message }, 'request refused: service unavailable');
    if (answer.status === 413) {
      // Let the client finish sending (bounded) so that it reads the 413 instead of a broken pipe.
      return drainRequest(request.raw).then(() => sendError(reply.header('Connection', 'close'), answer));
    }
    return sendError(reply, answer);
  });
}

export function apiNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const pathname = (request.url.split('?')[0] ?? '/').slice(0, 200);
  return sendError(reply, rendered('not_found', `No route ${request.method} ${pathname}`));
}

/**
 * Errors the router raises before any route is chosen (a path that is not valid percent-encoded
 * UTF-8, an overlong path segment): rendered like every other error instead of Fastify's own shape.
 */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void sendError(reply, render(err, request));
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (malformed HTTP, headers too large,
 * a request not received within requestTimeout): answered in the same JSON error shape, then the
 * connection is closed. A response already under way for a complete request is let finish first;
 * nothing is written on a connection that already carried a response.
 */
export function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message]: [number, ErrorCode, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'The request was not received completely in time; the connection is closed.']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'The request line and headers are larger than this server accepts.']
        : [400, 'bad_http_request', 'The request is not valid HTTP/1.1; the connection is closed.'];
  this.log.debug({ code: err.code }, 'client error');
  // Junk after a complete request (e.g. a body longer than its Content-Length): that request is
  // being answered; let its response finish (it may carry a new evaluation's id), then close.
  // (A request whose own body is broken can never complete: it is answered here, below.)
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && !inFlight.writableFinished && inFlight.req?.complete) {
    inFlight.shouldKeepAlive = false;
    inFlight.once('finish', () => socket.end());
    inFlight.once('close', () => socket.destroy());
    return;
  }
  // After earlier responses on this connection (one may have said `Connection: close`), a late
  // answer could be misread as belonging to them: like Node itself, answer only a fresh connection.
  if (socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0) {
    const body = JSON.stringify({ error: { code, message } });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Path patterns of the registered routes, to tell "no such path" (404) from "wrong method" (405). */
export class RouteIndex {
  private readonly routes: Array<{ segments: string[]; methods: Set<string> }> = [];

  add(url: string, methods: string | string[]): void {
    const list = Array.isArray(methods) ? methods : [methods];
    const segments = url.split('?')[0]!.split('/');
    const existing = this.routes.find((r) => r.segments.join('/') === segments.join('/'));
    const target = existing ?? { segments, methods: new Set<string>() };
    for (const m of list) target.methods.add(m.toUpperCase());
    if (target.methods.has('GET')) target.methods.add('HEAD');
    if (!existing) this.routes.push(target);
  }

  /** Methods some route accepts for this concrete path (empty: no route has this path). */
  allowed(pathname: string): string[] {
    const parts = pathname.split('/');
    const methods = new Set<string>();
    for (const route of this.routes) {
      if (matches(route.segments, parts)) for (const m of route.methods) methods.add(m);
    }
    return [...methods].sort();
  }
}

function matches(pattern: string[], parts: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '*') return parts.length > i; // the rest of the path, possibly empty
    if (i >= parts.length) return false;
    if (p.startsWith(':')) {
      if (parts[i] === '') return false;
    } else if (p !== parts[i]) return false;
  }
  return pattern.length === parts.length;
}

/**
 * Requests that match no route are answered before their body is read: 405 with Allow when the
 * path exists for other methods (204 with Allow for OPTIONS), else the JSON 404 for anything
 * but GET/HEAD (GET/HEAD go on to the not-found handler, which may serve the web UI).
 */
export function installMethodGuard(app: FastifyInstance): void {
  const index = new RouteIndex();
  app.addHook('onRoute', (route) => index.add(route.url, route.method));
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const pathname = request.url.split('?')[0] ?? '/';
    const allowed = index.allowed(pathname);
    if (allowed.length > 0) {
      const allow = [...allowed, 'OPTIONS'].join(', ');
      if (request.method === 'OPTIONS') return reply.code(204).header('Allow', allow).send();
      reply.header('Allow', allow);
      return sendError(reply, rendered('method_not_allowed', `${request.method} is not supported on ${pathname.slice(0, 200)}; allowed: ${allow}.`));
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return apiNotFound(request, reply);
    return undefined;
  });
}
