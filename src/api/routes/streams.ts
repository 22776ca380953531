/** GET /api/events: status changes of every evaluation, live and resumable (for dashboards and history views). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { badRequest, ErrorBody } from '../../domain/errors.js';
import { parseFeedPosition, type FeedPosition } from '../../domain/events.js';
import { actorOf } from '../auth.js';
import type { ApiContext } from '../context.js';
import { answeredHead, lastEventIdHeader, openSse } from '../sse.js';

const FeedQuery = z.object({ after: z.string().max(200).optional().describe('Same as the Last-Event-ID header: resume after this feed position') }).strict();

/** The position to resume after, from Last-Event-ID or ?after=; null for a fresh (live-only) stream; 400 if malformed. */
function resumePosition(header: string | string[] | undefined, query: string | undefined): FeedPosition | null {
  const text = lastEventIdHeader(header) ?? query;
  if (text === undefined || text === '') return null;
  const position = parseFeedPosition(text);
  if (!position) {
    throw badRequest(
      'invalid_last_event_id',
      `"${text.slice(0, 60)}" is not a position this feed sent (ids look like 1764750000000.ev_01J….3); omit it to follow live changes only.`,
    );
  }
  return position;
}

export function streamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/events',
    {
      schema: {
        tags: ['system'],
        summary: 'Server-Sent Events: every status change of every evaluation',
        description:
          'Each message is `event: status` with JSON {id, seq, status, reason, tags, at}; its SSE id is its position in the feed. Reconnect with Last-Event-ID (or ?after=) to first get every change after that position from the log (at least once: a change just before it may come again), then live ones. `event: ready` follows the replay (`complete: false` when more than 10 000 changes were missed: re-read the list).',
        querystring: FeedQuery,
        response: { 200: z.void().describe('text/event-stream'), 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const after = resumePosition(request.headers['last-event-id'], request.query.after);
      if (answeredHead(request, reply)) return reply;
      const sse = openSse(request, reply, ctx.streams);
      await ctx.statusFeed
        .follow(
          after,
          {
            send: (change, id) => sse.send({ id, event: 'status', data: change }),
            ready: (complete) => sse.send({ event: 'ready', data: { at: new Date().toISOString(), complete } }),
            get closed() {
              return sse.closed;
            },
            done: sse.done,
          },
          actorOf(request),
        )
        .catch((err: unknown) => {
          request.log.warn({ err: String(err) }, 'status feed ended with an error');
          sse.end();
        });
    },
  );
}
