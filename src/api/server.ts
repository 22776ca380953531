/**
 * Builds the HTTP server: JSON API validated by the domain's zod schemas, the OpenAPI document
 * generated from the same schemas (UI at /docs, JSON at /docs/json), SSE streams and the web UI.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger as PinoLogger } from 'pino';
import { REQUEST_BOUNDS } from '../domain/limits.js';
import type { ApiContext } from './context.js';
import { installErrorHandling } from './error-handler.js';
import { evaluationRoutes } from './routes/evaluations.js';
import { streamRoutes } from './routes/streams.js';
import { systemRoutes } from './routes/system.js';
import { webRoutes } from './routes/web.js';

/** Largest accepted body: a full batch of small programs, or one program with maximal code and stdin. */
export const BODY_LIMIT = REQUEST_BOUNDS.code_bytes * 2 + REQUEST_BOUNDS.stdin_bytes * 2;

export async function buildServer(ctx: ApiContext, logger: PinoLogger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    // Per-request log lines would cost more than the requests at the throughput we aim for.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // Outputs can be large; never let a slow client hold a request forever.
    requestTimeout: 0,
    keepAliveTimeout: 30_000,
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  // JSON only: anything else is answered 415 instead of being half-parsed. An empty JSON body
  // means "no body" (e.g. a bare POST .../cancel); the schema decides whether one was required.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    return parseJson(request, text, done);
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Crucible API',
        version: '0.1.0',
        description: 'Submit untrusted Python programs, run them in an isolated sandbox, watch them live and read honest results.',
      },
      tags: [
        { name: 'evaluations', description: 'Submit, read, list, cancel and stream evaluations' },
        { name: 'system', description: 'Queue, workers, statistics and health' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  evaluationRoutes(app, ctx);
  streamRoutes(app, ctx);
  systemRoutes(app, ctx);
  await webRoutes(app, ctx.webRoot);
  return app;
}
