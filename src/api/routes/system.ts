/** Operational endpoints: queue, workers, stats, configuration, syntax check, health. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ErrorBody } from '../../domain/errors.js';
import { ConfigResponse, HealthResponse, QueueStats, StatsResponse, SyntaxCheckResponse, WorkerList } from '../../domain/system-views.js';
import { actorOf } from '../auth.js';
import type { ApiContext } from '../context.js';
import { NoQuery, StatsQuery, SyntaxCheckRequest } from '../schemas.js';

export function systemRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/queue',
    {
      schema: { tags: ['system'], summary: 'Queue depth and evaluations per status', querystring: NoQuery, response: { 200: QueueStats, 503: ErrorBody } },
    },
    async (request) => ctx.system.queue(actorOf(request)),
  );

  api.get(
    '/api/workers',
    {
      schema: {
        tags: ['system'],
        summary: 'Workers with their capacity, load and last heartbeat',
        querystring: NoQuery,
        response: { 200: WorkerList, 503: ErrorBody },
      },
    },
    async () => ctx.system.workers(),
  );

  api.get(
    '/api/stats',
    {
      schema: {
        tags: ['system'],
        summary: 'Finished evaluations per time bucket (throughput, failure rate)',
        querystring: StatsQuery,
        response: { 200: StatsResponse, 400: ErrorBody },
      },
    },
    async (request) => ctx.system.stats(request.query.minutes, request.query.bucket_s, actorOf(request)),
  );

  api.get(
    '/api/config',
    {
      schema: {
        tags: ['system'],
        summary: 'Limits with defaults and maxima, environments, sandbox backends',
        querystring: NoQuery,
        response: { 200: ConfigResponse, 400: ErrorBody },
      },
    },
    async () => ctx.system.config(),
  );

  api.post(
    '/api/syntax-check',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Compile (never run) a program and report syntax errors with their line',
        body: SyntaxCheckRequest,
        querystring: NoQuery,
        response: { 200: SyntaxCheckResponse, 400: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => ctx.syntaxChecker.check(request.body.code),
  );

  api.get(
    '/healthz',
    {
      schema: { tags: ['system'], summary: 'Liveness: the process answers', response: { 200: HealthResponse } },
    },
    async () => ({ status: 'ok' as const, checks: {} }),
  );

  api.get(
    '/readyz',
    {
      schema: { tags: ['system'], summary: 'Readiness: storage, queue, bus and sandbox reachable', response: { 200: HealthResponse, 503: HealthResponse } },
    },
    async (_request, reply) => {
      const { ready, report } = await ctx.system.readiness();
      return reply.code(ready ? 200 : 503).send(report);
    },
  );
}
