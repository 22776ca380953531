/**
 * Renders every failure as `{ "error": { "code", "message", "details"? } }` with the right status:
 * 4xx for what the caller can fix, 503 + Retry-After for a dependency that is down, and 500 (with
 * the cause only in the server log) for our own bugs. A user can never make this throw.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { CrucibleError, type ErrorBody } from '../domain/errors.js';

interface Rendered {
  status: number;
  body: ErrorBody;
  retryAfterS?: number;
}

const OUTAGE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08003', '08006', 'SQLITE_BUSY']);

/** Errors that mean "a database/queue/bus is down or overloaded", not "the request is wrong". */
export function isDependencyOutage(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof e.code === 'string' && OUTAGE_CODES.has(e.code)) return true;
  const text = `${String(e.name)} ${String(e.message)}`;
  return /Connection is closed|MaxRetriesPerRequest|Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|Stream isn't writeable|ECONNREFUSED|database is locked/i.test(text);
}

function render(err: FastifyError | Error, request: FastifyRequest): Rendered {
  if (err instanceof CrucibleError) {
    return {
      status: err.httpStatus,
      body: { error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } },
      retryAfterS: err.retryAfterS,
    };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err as { validationContext?: string }).validationContext ?? 'body';
    const details = err.validation.map((v) => ({
      location: where,
      path: v.instancePath.split('/').filter(Boolean),
      message: v.message ?? 'invalid',
    }));
    const summary = details.map((d) => (d.path.length ? `${d.path.join('.')}: ${d.message}` : d.message)).join('; ');
    return { status: 400, body: { error: { code: 'invalid_request', message: `Invalid ${where}: ${summary}`, details } } };
  }
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_VALIDATION':
      // A validator that threw instead of reporting issues (e.g. on a pathological value).
      return { status: 400, body: { error: { code: 'invalid_request', message: `Invalid ${(fe as { validationContext?: string }).validationContext ?? 'request'}: it could not be validated.` } } };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: { code: 'payload_too_large', message: `Request body is larger than the ${request.server.initialConfig.bodyLimit} bytes this server accepts.` } } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { error: { code: 'unsupported_media_type', message: 'Send the body as application/json.' } } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: { error: { code: 'invalid_json', message: 'The body is empty; send a JSON object.' } } };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: { error: { code: 'invalid_json', message: `The body is not valid JSON: ${fe.message}` } } };
  }
  if (err instanceof SyntaxError && fe.statusCode === 400) {
    return { status: 400, body: { error: { code: 'invalid_json', message: `The body is not valid JSON: ${err.message}` } } };
  }
  if (isDependencyOutage(err)) {
    return {
      status: 503,
      body: { error: { code: 'dependency_unavailable', message: 'A backing service (database or queue) is unavailable right now; nothing was changed. Retry shortly.' } },
      retryAfterS: 2,
    };
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: { code: (fe.code ?? 'bad_request').toLowerCase(), message: fe.message } } };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'An internal error occurred; it has been logged.' } } };
}

export function sendError(reply: FastifyReply, rendered: Rendered): FastifyReply {
  if (rendered.retryAfterS !== undefined) reply.header('Retry-After', String(rendered.retryAfterS));
  return reply.code(rendered.status).type('application/json').send(rendered.body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const rendered = render(err, request);
    if (rendered.status === 500) request.log.error({ err }, 'request failed');
    else if (rendered.status === 503) request.log.warn({ code: rendered.body.error.code, cause: err.message }, 'request refused: service unavailable');
    return sendError(reply, rendered);
  });
}

export function apiNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, { status: 404, body: { error: { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` } } });
}
