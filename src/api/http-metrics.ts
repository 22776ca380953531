/**
 * HTTP metrics and the Prometheus endpoint. Requests are labelled by the route pattern Fastify
 * matched (`/api/evaluations/:id`), never the raw URL, so an id or a probe of random paths cannot
 * create series; anything unmatched is `unmatched`.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../ports/metrics.js';

export function installHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequest({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
    });
  });

  // Plain text in Prometheus's exposition format; kept out of the OpenAPI document (not a JSON API).
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
}
