/**
 * What ties an HTTP request to an evaluation in the operator's tools: a request about one
 * evaluation (`/api/evaluations/:id/...`) logs with its `evaluation_id`, and a submission runs in
 * a server span that continues the caller's trace (an incoming W3C `traceparent` header) and is
 * carried on in the queue job to the worker.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TraceCarrier, Tracing } from '../ports/tracing.js';

export function logEvaluationIds(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    const id = (request.params as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string' && request.routeOptions.url?.startsWith('/api/evaluations/:id')) request.log = request.log.child({ evaluation_id: id });
  });
}

/** The caller's trace context, when it sent a well-formed one (the propagator checks the format). */
function incomingTrace(request: FastifyRequest): TraceCarrier | null {
  const traceparent = request.headers.traceparent;
  if (typeof traceparent !== 'string') return null;
  const tracestate = request.headers.tracestate;
  return typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
}

/** Runs a route handler inside a server span named after the route (`POST /api/evaluations`). */
export function inServerSpan<T>(tracing: Tracing, request: FastifyRequest, reply: FastifyReply, handler: () => Promise<T>): Promise<T> {
  const route = request.routeOptions.url ?? 'unmatched';
  return tracing.inSpan(
    `${request.method} ${route}`,
    { kind: 'server', parent: incomingTrace(request), attributes: { 'http.request.method': request.method, 'http.route': route } },
    async (span) => {
      const result = await handler();
      span.setAttributes({ 'http.response.status_code': reply.statusCode });
      return result;
    },
  );
}
