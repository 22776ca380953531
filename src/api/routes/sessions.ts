/** /api/sessions: long-lived sandboxes for agents — create, exec (plain or streamed), files, events, end. */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CrucibleError, ErrorBody } from '../../domain/errors.js';
import {
  CreateSessionRequest,
  ExecRequest,
  ExecResult,
  FileQuery,
  FileWritten,
  ListSessionsQuery,
  ReadFileQuery,
  Session,
  SessionIdParams,
  SessionList,
  SESSION_BOUNDS,
} from '../../domain/session.js';
import { actorOf } from '../auth.js';
import type { ApiContext } from '../context.js';
import { EventsQuery, NoQuery } from '../schemas.js';
import { answeredHead, openSse } from '../sse.js';
import { lastEventId } from './evaluations.js';

const errors = { 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 503: ErrorBody, 507: ErrorBody };
const ExecQuery = z
  .object({ stream: z.enum(['true', 'false']).optional().describe('true: answer as Server-Sent Events (stdout, stderr, then result)') })
  .strict();

/** A file write over the per-file limit of sessions (SESSION_BOUNDS.file_bytes). */
function fileTooLarge(): CrucibleError {
  const limit = SESSION_BOUNDS.file_bytes;
  return new CrucibleError('file_too_large', `The file is larger than a session accepts: at most ${limit} bytes (${limit / 2 ** 20} MiB) per file.`);
}

export function sessionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/api/sessions',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Start a long-lived sandbox',
        description: 'Answers 201 once the sandbox is ready (or with status `ended` and reason `start_failed` if it could not start).',
        body: CreateSessionRequest,
        querystring: NoQuery,
        response: { 201: Session, ...errors },
      },
    },
    async (request, reply) => {
      const session = await ctx.sessions.create(request.body, actorOf(request));
      return reply.code(201).header('Location', `/api/sessions/${session.id}`).send(session);
    },
  );

  api.get(
    '/api/sessions',
    { schema: { tags: ['sessions'], summary: 'List sessions, newest first', querystring: ListSessionsQuery, response: { 200: SessionList, ...errors } } },
    async (request) => ctx.sessions.list(request.query, actorOf(request)),
  );

  api.get(
    '/api/sessions/:id',
    { schema: { tags: ['sessions'], summary: 'Read one session', params: SessionIdParams, querystring: NoQuery, response: { 200: Session, ...errors } } },
    async (request) => ctx.sessions.get(request.params.id, actorOf(request)),
  );

  api.delete(
    '/api/sessions/:id',
    {
      schema: {
        tags: ['sessions'],
        summary: 'End a session',
        description: 'Kills every process of the sandbox and frees its cgroup, scratch space and mounts. An ended session is returned as it is.',
        params: SessionIdParams,
        querystring: NoQuery,
        response: { 200: Session, ...errors },
      },
    },
    async (request) => ctx.sessions.end(request.params.id, actorOf(request)),
  );

  api.post(
    '/api/sessions/:id/exec',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Run a command in the session',
        description: `A timeout kills the command's process group, not the session; what it leaves in the background runs until the session ends. At most ${SESSION_BOUNDS.concurrent_execs} execs run at once in one session: more are refused with 409 \`session_busy\`. With ?stream=true the answer is Server-Sent Events: \`stdout\`/\`stderr\` ({text} or {base64}), then \`result\` (the ExecResult) or \`error\`.`,
        params: SessionIdParams,
        querystring: ExecQuery,
        body: ExecRequest,
        response: { 200: ExecResult, ...errors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { id } = request.params;
      if (request.query.stream !== 'true') return ctx.sessions.exec(id, request.body, actor);
      // 404 / 409 as plain answers before the stream opens.
      await ctx.sessions.get(id, actor);
      const sse = openSse(request, reply, ctx.streams);
      const base64 = request.body.output_encoding === 'base64';
      try {
        const result = await ctx.sessions.exec(id, request.body, actor, (stream, bytes) =>
          sse.send({ event: stream, data: base64 ? { base64: bytes.toString('base64') } : { text: bytes.toString('utf8') } }),
        );
        sse.send({ event: 'result', data: result });
      } catch (err) {
        const e = err as { code?: string; message?: string };
        sse.send({ event: 'error', data: { error: { code: e.code ?? 'internal_error', message: e.message ?? 'exec failed' } } });
      }
      sse.end();
    },
  );

  // Files travel as raw bytes in both directions, whatever the content type the client sends.
  app.register(async (scope) => {
    // Fastify's body limit error would name the server-wide limit (14 MiB); a file write is bounded
    // by the session's own per-file limit, so say that one. Anything else goes on to the API's
    // error handler (a throw in a scope's handler reaches its parent's), which also drains the body.
    scope.setErrorHandler((err: FastifyError) => {
      throw err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? fileTooLarge() : err;
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SESSION_BOUNDS.file_bytes }, (_request, body, done) => done(null, body));
    const files = scope.withTypeProvider<ZodTypeProvider>();
    files.put(
      '/api/sessions/:id/files',
      {
        bodyLimit: SESSION_BOUNDS.file_bytes,
        schema: {
          tags: ['sessions'],
          summary: 'Write a file in the session (raw body, bytes exactly)',
          description: `Relative paths resolve against the working directory (/sandbox); missing parent directories are created. Up to ${SESSION_BOUNDS.file_bytes} bytes.`,
          params: SessionIdParams,
          querystring: FileQuery,
          response: { 200: FileWritten, ...errors },
        },
      },
      async (request) => {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        return ctx.sessions.writeFile(request.params.id, request.query.path, body, actorOf(request));
      },
    );
    files.get(
      '/api/sessions/:id/files',
      {
        // A file's bytes go out as they are: gzip of a large (often incompressible) file cost the
        // server CPU and made fetch clients, which always accept gzip, read 64 MiB at ~2 MiB/s.
        compress: false,
        schema: {
          tags: ['sessions'],
          summary: 'Read a file from the session (bytes exactly)',
          params: SessionIdParams,
          querystring: ReadFileQuery,
          response: { 200: z.unknown().describe('application/octet-stream'), ...errors },
        },
      },
      async (request, reply) => {
        const file = await ctx.sessions.readFile(request.params.id, request.query.path, actorOf(request), request.query.max_bytes);
        return reply.type('application/octet-stream').header('X-Content-SHA256', file.sha256).header('X-Content-Type-Options', 'nosniff').send(file.content);
      },
    );
  });

  api.get(
    '/api/sessions/:id/events',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Server-Sent Events: everything the session did, in order',
        description:
          'Events `status`, `exec` (command and result), `file_write` and `file_read` (path, size, sha256), each with its sequence number as the SSE id. Reconnect with Last-Event-ID (or ?after=) to get exactly what was missed. The stream ends after the session ends.',
        params: SessionIdParams,
        querystring: EventsQuery,
        response: { 200: z.void().describe('text/event-stream'), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const actor = actorOf(request);
      const after = lastEventId(request.headers['last-event-id']) ?? request.query.after ?? 0;
      await ctx.sessions.get(id, actor);
      if (answeredHead(request, reply)) return reply;
      const sse = openSse(request, reply, ctx.streams);
      await ctx.sessions
        .follow(id, after, actor, {
          send: (event) => sse.send({ id: event.seq, event: event.type, data: event }),
          get closed() {
            return sse.closed;
          },
          done: sse.done,
          end: () => sse.end(),
        })
        .catch((err: unknown) => {
          request.log.warn({ err: String(err) }, 'session event stream ended with an error');
          sse.end();
        });
    },
  );
}
