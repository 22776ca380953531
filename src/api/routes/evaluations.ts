/** /api/evaluations: submit, batch submit, read, list, cancel, and the per-evaluation event stream. */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BatchCreateRequest, CreateEvaluationRequest, Evaluation, EvaluationList, isTerminal, ListEvaluationsQuery } from '../../domain/evaluation.js';
import { badRequest, ErrorBody } from '../../domain/errors.js';
import { EvaluationSetSummary, EvaluationSetSummaryQuery } from '../../domain/evaluation-set-summary.js';
import { ARTIFACT_CSP, ArtifactList, servedInline } from '../../domain/artifacts.js';
import { BatchCreateResponse, CreateQuery, EvaluationIdParams, EventsQuery, NoQuery } from '../schemas.js';
import { actorOf } from '../auth.js';
import { inServerSpan } from '../request-context.js';
import { sendEvaluation } from '../evaluation-json.js';
import { trustedJsonSerializer } from '../trusted-json.js';
import type { ApiContext } from '../context.js';
import { answeredHead, lastEventIdHeader, openSse, sseEventSink } from '../sse.js';

const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 503: ErrorBody };

export function evaluationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/api/evaluations',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Submit a Python program',
        description:
          'Queues the program and answers 202 at once; with ?wait=true (or wait_s) the request is held until the evaluation ends (200) or the wait runs out (202).',
        body: CreateEvaluationRequest,
        querystring: CreateQuery,
        response: { 200: Evaluation, 202: Evaluation, ...errors },
      },
    },
    (request, reply) =>
      inServerSpan(ctx.tracing, request, reply, async () => {
        const [created] = await ctx.evaluations.submit([request.body], actorOf(request));
        const evaluation = created!;
        request.log = request.log.child({ evaluation_id: evaluation.id });
        const waitS = request.query.wait_s ?? (request.query.wait ? Math.min(60, ctx.maxWaitS) : 0);
        if (waitS <= 0) return reply.code(202).header('Location', `/api/evaluations/${evaluation.id}`).send(evaluation);
        // A client that hangs up stops the wait (the evaluation itself goes on, as submitted).
        const gone = new AbortController();
        reply.raw.once('close', () => gone.abort());
        const after = await ctx.evaluations.waitForTerminal(evaluation.id, Math.min(waitS, ctx.maxWaitS) * 1000, gone.signal);
        reply.code(isTerminal(after.evaluation.status) ? 200 : 202).header('Location', `/api/evaluations/${evaluation.id}`);
        return sendEvaluation(reply, after);
      }),
  );

  api.post(
    '/api/evaluations/batch',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Submit several programs at once',
        description: 'All or nothing: either every evaluation is queued (ids returned in request order) or none is.',
        body: BatchCreateRequest,
        querystring: NoQuery,
        response: { 202: BatchCreateResponse, ...errors },
      },
    },
    (request, reply) =>
      inServerSpan(ctx.tracing, request, reply, async () => {
        const created = await ctx.evaluations.submit(request.body.evaluations, actorOf(request));
        return reply.code(202).send({ ids: created.map((e) => e.id) });
      }),
  );

  api.get(
    '/api/evaluations',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'List evaluations, newest first',
        querystring: ListEvaluationsQuery,
        response: { 200: EvaluationList, ...errors },
      },
      serializerCompiler: trustedJsonSerializer,
    },
    async (request) => ctx.evaluations.list(request.query, actorOf(request)),
  );

  api.get(
    '/api/evaluations/summary',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Counts and run-time percentiles of the evaluations the filters select (e.g. one tag: a batch)',
        description:
          'Takes the list filters (status, tags, q, meta, project) without paging: evaluations per status, how many passed (completed with exit 0), how many are in flight, and p50/p95/max run time of the finished ones. At most the newest 5000 matching evaluations are read (`sampled` says so).',
        querystring: EvaluationSetSummaryQuery,
        response: { 200: EvaluationSetSummary, ...errors },
      },
    },
    async (request) => ctx.evaluations.summary(request.query, actorOf(request)),
  );

  api.get(
    '/api/evaluations/:id',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Read one evaluation with its outputs and verdict',
        params: EvaluationIdParams,
        querystring: NoQuery,
        response: { 200: Evaluation, ...errors },
      },
    },
    async (request, reply) => sendEvaluation(reply, await ctx.evaluations.read(request.params.id, actorOf(request))),
  );

  for (const stream of ['stdout', 'stderr'] as const) {
    api.get(
      `/api/evaluations/:id/${stream}`,
      {
        schema: {
          tags: ['evaluations'],
          summary: `The program's ${stream}, byte for byte`,
          description: `The bytes exactly as the program wrote them (up to max_output_bytes; a longer stream keeps its head and tail around a marker line), including NUL and bytes that are not UTF-8, which the JSON's \`${stream}\` text shows as U+FFFD.`,
          params: EvaluationIdParams,
          querystring: NoQuery,
          response: { 200: z.unknown().describe('application/octet-stream'), ...errors },
        },
      },
      async (request, reply) => {
        // Streamed piece by piece from storage at the client's pace (two pieces ahead): a 16 MiB
        // stream is never held whole, nor piled up for a client that reads slowly.
        const pieces = await ctx.evaluations.output(request.params.id, stream, actorOf(request));
        return reply
          .type('application/octet-stream')
          .header('Content-Disposition', `attachment; filename="${request.params.id}.${stream}"`)
          .header('X-Content-Type-Options', 'nosniff')
          .send(Readable.from(pieces, { highWaterMark: 2 }));
      },
    );
  }

  api.get(
    '/api/evaluations/:id/artifacts',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'The files the program left in /sandbox/out',
        description:
          'Collected when the program ended, within max_artifacts and max_artifact_bytes; what was left behind (over a limit, a symlink, a fifo…) is listed in `dropped` with the reason.',
        params: EvaluationIdParams,
        querystring: NoQuery,
        response: { 200: ArtifactList, ...errors },
      },
    },
    async (request) => ctx.evaluations.artifacts(request.params.id, actorOf(request)),
  );

  api.get(
    '/api/evaluations/:id/artifacts/*',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'One artifact, byte for byte',
        description: `PNG, JPEG, GIF and WebP (recognised by their bytes, never the name) are served inline; everything else, SVG and HTML included, as an attachment. Always with \`X-Content-Type-Options: nosniff\` and \`Content-Security-Policy: ${ARTIFACT_CSP}\`. 404 \`artifact_not_found\` for a path the evaluation has no artifact at.`,
        params: EvaluationIdParams.extend({ '*': z.string().min(1).max(4096).describe('The artifact path, as listed') }),
        querystring: NoQuery,
        response: { 200: z.unknown().describe('The artifact bytes'), ...errors },
      },
    },
    async (request, reply) => {
      const artifact = await ctx.evaluations.artifact(request.params.id, request.params['*'], actorOf(request));
      const name = artifact.path.split('/').pop()!;
      const disposition = servedInline(artifact.content_type) ? 'inline' : 'attachment';
      return reply
        .type(artifact.content_type)
        .header('Content-Disposition', `${disposition}; filename="${asciiName(name)}"; filename*=UTF-8''${encodeURIComponent(name)}`)
        .header('X-Content-Type-Options', 'nosniff')
        .header('Content-Security-Policy', ARTIFACT_CSP)
        .header('Cache-Control', 'private, max-age=300')
        .send(Buffer.from(artifact.content.buffer, artifact.content.byteOffset, artifact.content.byteLength));
    },
  );

  api.post(
    '/api/evaluations/:id/cancel',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Cancel a queued evaluation or kill a running one',
        description: '409 if it already ended.',
        params: EvaluationIdParams,
        querystring: NoQuery,
        body: z.unknown().optional(),
        response: { 200: Evaluation, ...errors },
      },
    },
    async (request) => ctx.evaluations.cancel(request.params.id, actorOf(request)),
  );

  api.get(
    '/api/evaluations/:id/events',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Server-Sent Events: status, stdout, stderr, metrics, done',
        description:
          'Each event carries its per-evaluation sequence number as the SSE id and the whole event as JSON data. Reconnect with Last-Event-ID (or ?after=) to get exactly what was missed; a finished evaluation replays its whole history. The stream ends after `done`; reconnecting after it gets 204 (which tells EventSource to stop). 400 for an event id this evaluation does not have.',
        params: EvaluationIdParams,
        querystring: EventsQuery,
        response: {
          200: z.void().describe('text/event-stream'),
          204: z.void().describe('The client already has every event of a finished evaluation'),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const after = lastEventId(request.headers['last-event-id']) ?? request.query.after ?? 0;
      // 404 and 400 before the stream opens; 204 (which also stops an EventSource reconnecting)
      // when the client already saw the end.
      const plan = await ctx.events.plan(id, after, actorOf(request));
      if (plan.kind === 'complete') return reply.code(204).send();
      if (answeredHead(request, reply)) return reply;
      const sse = openSse(request, reply, ctx.streams);
      await ctx.events.follow(id, after, sseEventSink(sse)).catch((err: unknown) => {
        request.log.warn({ err: String(err) }, 'event stream ended with an error');
        sse.end();
      });
    },
  );
}

/** A file name safe inside a quoted header value (the exact name goes in filename*). */
function asciiName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The Last-Event-ID header as a sequence number; absent or blank: undefined; anything else: 400. */
export function lastEventId(header: string | string[] | undefined): number | undefined {
  const text = lastEventIdHeader(header);
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text)) {
    throw badRequest('invalid_request', `Invalid headers: Last-Event-ID must be an event id this stream sent (a whole number), not "${text.slice(0, 40)}".`, [
      { location: 'headers', path: ['last-event-id'], message: 'must be a whole number' },
    ]);
  }
  return Number(text);
}
