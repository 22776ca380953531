/** /api/evaluations: submit, batch submit, read, list, cancel, and the per-evaluation event stream. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  BatchCreateRequest,
  CreateEvaluationRequest,
  Evaluation,
  EvaluationList,
  isTerminal,
  ListEvaluationsQuery,
} from '../../domain/evaluation.js';
import { ErrorBody } from '../../domain/errors.js';
import { BatchCreateResponse, CreateQuery, EvaluationIdParams, EventsQuery } from '../schemas.js';
import type { ApiContext } from '../context.js';
import { streamEvaluationEvents } from '../event-stream.js';
import { openSse } from '../sse.js';

const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 503: ErrorBody };

export function evaluationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post('/api/evaluations', {
    schema: {
      tags: ['evaluations'],
      summary: 'Submit a Python program',
      description: 'Queues the program and answers 202 at once; with ?wait=true (or wait_s) the request is held until the evaluation ends (200) or the wait runs out (202).',
      body: CreateEvaluationRequest,
      querystring: CreateQuery,
      response: { 200: Evaluation, 202: Evaluation, ...errors },
    },
  }, async (request, reply) => {
    const [created] = await ctx.service.submit([request.body]);
    const evaluation = created!;
    const waitS = request.query.wait_s ?? (request.query.wait ? Math.min(60, ctx.maxWaitS) : 0);
    if (waitS <= 0) return reply.code(202).header('Location', `/api/evaluations/${evaluation.id}`).send(evaluation);
    const after = await ctx.service.waitForTerminal(evaluation.id, Math.min(waitS, ctx.maxWaitS) * 1000);
    return reply.code(isTerminal(after.status) ? 200 : 202).header('Location', `/api/evaluations/${evaluation.id}`).send(after);
  });

  api.post('/api/evaluations/batch', {
    schema: {
      tags: ['evaluations'],
      summary: 'Submit several programs at once',
      description: 'All or nothing: either every evaluation is queued (ids returned in request order) or none is.',
      body: BatchCreateRequest,
      response: { 202: BatchCreateResponse, ...errors },
    },
  }, async (request, reply) => {
    const created = await ctx.service.submit(request.body.evaluations);
    return reply.code(202).send({ ids: created.map((e) => e.id) });
  });

  api.get('/api/evaluations', {
    schema: {
      tags: ['evaluations'],
      summary: 'List evaluations, newest first',
      querystring: ListEvaluationsQuery,
      response: { 200: EvaluationList, ...errors },
    },
  }, async (request) => ctx.service.list(request.query));

  api.get('/api/evaluations/:id', {
    schema: {
      tags: ['evaluations'],
      summary: 'Read one evaluation with its outputs and verdict',
      params: EvaluationIdParams,
      response: { 200: Evaluation, ...errors },
    },
  }, async (request) => ctx.service.get(request.params.id));

  api.post('/api/evaluations/:id/cancel', {
    schema: {
      tags: ['evaluations'],
      summary: 'Cancel a queued evaluation or kill a running one',
      description: '409 if it already ended.',
      params: EvaluationIdParams,
      body: z.unknown().optional(),
      response: { 200: Evaluation, ...errors },
    },
  }, async (request) => ctx.service.cancel(request.params.id));

  api.get('/api/evaluations/:id/events', {
    schema: {
      tags: ['evaluations'],
      summary: 'Server-Sent Events: status, stdout, stderr, metrics, done',
      description:
        'Each event carries its per-evaluation sequence number as the SSE id and the whole event as JSON data. Reconnect with Last-Event-ID (or ?after=) to get exactly what was missed; a finished evaluation replays its whole history. The stream ends after `done`.',
      params: EvaluationIdParams,
      querystring: EventsQuery,
      response: { 404: ErrorBody },
    },
  }, async (request, reply) => {
    await ctx.service.get(request.params.id); // 404 before the stream opens
    const header = request.headers['last-event-id'];
    const fromHeader = typeof header === 'string' && /^\d+$/.test(header.trim()) ? Number(header.trim()) : undefined;
    const after = fromHeader ?? request.query.after ?? 0;
    const sse = openSse(request, reply);
    await streamEvaluationEvents({ store: ctx.store, bus: ctx.bus }, request.params.id, after, sse).catch((err: unknown) => {
      request.log.warn({ err: String(err) }, 'event stream ended with an error');
      sse.end();
    });
  });
}
