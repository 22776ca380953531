/** Per-project quotas: read by the project's members and admins, set by admins. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ProjectParams, ProjectQuota, ProjectQuotaView, QuotaUpdate } from '../../domain/quota.js';
import { accessRouteErrors as errors, actorOf } from '../auth.js';
import type { ApiContext } from '../context.js';
import { NoQuery } from '../schemas.js';

export function quotaRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/projects/:project/quota',
    {
      schema: {
        tags: ['access'],
        summary: "A project's quota and current usage (its members and admins)",
        params: ProjectParams,
        querystring: NoQuery,
        response: { 200: ProjectQuotaView, ...errors },
      },
    },
    async (request) => ctx.quotas.show(actorOf(request), request.params.project),
  );

  api.put(
    '/api/projects/:project/quota',
    {
      schema: {
        tags: ['access'],
        summary: "Set a project's quota (admin); the fields given replace the stored ones, null = unlimited",
        params: ProjectParams,
        body: QuotaUpdate,
        querystring: NoQuery,
        response: { 200: ProjectQuota, ...errors },
      },
    },
    async (request) => ctx.quotas.set(actorOf(request), request.params.project, request.body),
  );
}
