/**
 * Builds the HTTP server: JSON API validated by the domain's zod schemas, the OpenAPI document
 * generated from the same schemas (UI at /docs, JSON at /docs/json), SSE streams and the web UI.
 */
import zlib from 'node:zlib';
import fastifyCompress from '@fastify/compress';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger as PinoLogger } from 'pino';
import { CrucibleError } from '../domain/errors.js';
import { REQUEST_BOUNDS } from '../domain/limits.js';
import { CRUCIBLE_VERSION } from '../domain/version.js';
import { auditRoutes, installAudit, installAuthentication, keyRoutes } from './auth.js';
import type { ApiContext } from './context.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling, installMethodGuard } from './error-handler.js';
import { assertIdentityEncoding, assertUtf8Charset, parseJsonBody, unsupportedMediaType } from './json-body.js';
import { installHttpMetrics } from './http-metrics.js';
import { logEvaluationIds } from './request-context.js';
import { installResponseBudget } from './response-budget.js';
import { evaluationRoutes } from './routes/evaluations.js';
import { quotaRoutes } from './routes/quotas.js';
import { streamRoutes } from './routes/streams.js';
import { environmentRoutes } from './routes/environments.js';
import { sessionRoutes } from './routes/sessions.js';
import { signInRoutes } from './routes/sign-in.js';
import { systemRoutes } from './routes/system.js';
import { webRoutes } from './routes/web.js';

/** Largest accepted body (see REQUEST_BOUNDS.body_bytes). */
export const BODY_LIMIT = REQUEST_BOUNDS.body_bytes;

/** How long a client may take to send a whole request (headers and body). */
export const REQUEST_TIMEOUT_MS = 60_000;

/**
 * `?limit=1&limit=2` arrives as an array, which no parameter accepts: say so plainly instead of
 * a type error (lists are comma-separated, e.g. `?status=failed,timeout`).
 */
function rejectRepeatedQueryParameters(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const query = request.query as Record<string, unknown> | undefined;
    if (!query) return;
    const repeated = Object.keys(query).filter((k) => Array.isArray(query[k]));
    if (repeated.length === 0) return;
    const details = repeated.map((k) => ({ location: 'querystring', path: [k], message: `given ${(query[k] as unknown[]).length} times` }));
    throw new CrucibleError(
      'invalid_request',
      `Invalid querystring: ${repeated.map((k) => `"${k.slice(0, 50)}"`).join(', ')} given more than once; give each parameter once (lists are comma-separated).`,
      details,
    );
  });
}

/**
 * Compresses responses for clients that ask: big JSON (an evaluation with its output, a list page)
 * shrinks many times. gzip is preferred when a client takes both: brotli costs several times the
 * CPU on a multi-MB evaluation, compressed on every request (it measurably delayed other responses
 * under load). Registered before any route, since the plugin attaches itself to routes as they are
 * declared. SSE streams write to a hijacked reply, which compression never touches, and
 * text/event-stream is excluded anyway: buffering it would hold live events back. Request bodies
 * are not decompressed (a compressed body stays a 415).
 */
async function registerCompression(app: FastifyInstance): Promise<void> {
  await app.register(fastifyCompress, {
    encodings: ['gzip', 'br'],
    globalDecompression: false,
    threshold: 1024,
    // The plugin's default list without event streams, plus JavaScript and the icon font.
    customTypes: /^text\/(?!event-stream)|[+/](?:json|xml|javascript)(?:;|$)|^font\/ttf/u,
    // What is compressed here is made per request (JSON; the UI's assets come precompressed from
    // the build, routes/web.ts), so speed counts more than the last bytes: gzip level 1, as
    // nginx's default, cost ~1.4 ms less server CPU than level 6 per 200-item list page (~216 kB
    // of JSON) for 5% more bytes (12.3 against 11.7 kB). Brotli, for brotli-only clients: quality 4.
    zlibOptions: { level: 1 },
    brotliOptions: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } },
  });
}

export async function buildServer(ctx: ApiContext, logger: PinoLogger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    // Per-request log lines would cost more than the requests at the throughput we aim for.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // Receiving the request (headers and body, not the response: long waits and SSE streams are
    // unaffected) must finish within this, so a slow or stalled client cannot hold a connection
    // forever; it gets 408 and is disconnected. Generous for a maximal body on a slow link.
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: 30_000,
    forceCloseConnections: true,
    return503OnClosing: true,
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  installMethodGuard(app);
  rejectRepeatedQueryParameters(app);
  installAuthentication(app, ctx.access, ctx.webSessions);
  installAudit(app, ctx.audit);
  installResponseBudget(app, ctx.maxPendingResponseBytes);
  await registerCompression(app);
  installHttpMetrics(app, ctx.metrics);
  logEvaluationIds(app);
  // JSON only: anything else is answered 415 instead of being half-parsed. An empty body (of any
  // type) means "no body" (e.g. a bare POST .../cancel); the schema decides whether one was required.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      assertIdentityEncoding(request.headers['content-encoding']);
      assertUtf8Charset(request.headers['content-type']);
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('*', (request, payload, done) => {
    if (request.headers['content-length'] === '0' && request.headers['transfer-encoding'] === undefined) {
      payload.resume();
      return done(null, undefined);
    }
    done(unsupportedMediaType(request.headers['content-type']), undefined);
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Crucible API',
        version: CRUCIBLE_VERSION,
        description: 'Submit untrusted Python programs, run them in an isolated sandbox, watch them live and read honest results.',
      },
      tags: [
        { name: 'evaluations', description: 'Submit, read, list, cancel and stream evaluations' },
        { name: 'environments', description: 'Environments programs run in: packages, Python version, builds, SBOM' },
        { name: 'sessions', description: 'Long-lived sandboxes for agents: exec, files, events' },
        { name: 'system', description: 'Queue, workers, statistics and health' },
        { name: 'access', description: 'API keys, web sign-in (OpenID Connect or a key), the audit log (admin only) and project quotas' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  evaluationRoutes(app, ctx);
  streamRoutes(app, ctx);
  sessionRoutes(app, ctx);
  systemRoutes(app, ctx);
  environmentRoutes(app, ctx);
  keyRoutes(app, ctx);
  auditRoutes(app, ctx);
  quotaRoutes(app, ctx);
  signInRoutes(app, ctx);
  await webRoutes(app, ctx.webRoot);
  return app;
}
