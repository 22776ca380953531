/** GET /api/events: status changes of every evaluation, live (for dashboards and history views). */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { NoQuery } from '../schemas.js';
import { answeredHead, openSse } from '../sse.js';

export function streamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/events', {
    schema: {
      tags: ['system'],
      summary: 'Server-Sent Events: every status change of every evaluation',
      description: 'Each message is `event: status` with JSON {id, status, reason, tags, at}. Not replayed (a Last-Event-ID header is ignored): read the list endpoint for history.',
      querystring: NoQuery,
    },
  }, async (request, reply) => {
    if (answeredHead(request, reply)) return reply;
    const sse = openSse(request, reply, ctx.streams);
    const subscription = await ctx.statusFeed.subscribe((change) => sse.send({ event: 'status', data: change }));
    sse.send({ event: 'ready', data: { at: new Date().toISOString() } });
    try {
      await sse.done;
    } finally {
      await subscription.unsubscribe();
    }
  });
}
