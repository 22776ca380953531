/** Environments: what each contains, whether it is built and served, and its SBOM. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { CycloneDxBom, EnvironmentList, EnvironmentParams, EnvironmentView } from '../../domain/environments.js';
import { ErrorBody } from '../../domain/errors.js';
import type { ApiContext } from '../context.js';
import { NoQuery } from '../schemas.js';

export function environmentRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/environments',
    {
      schema: {
        tags: ['environments'],
        summary: 'Every environment: Python version, packages, status on this host, limits, sandboxes and the workers serving it',
        querystring: NoQuery,
        response: { 200: EnvironmentList, 503: ErrorBody },
      },
    },
    async () => ctx.environments.list(),
  );

  api.get(
    '/api/environments/:name',
    {
      schema: {
        tags: ['environments'],
        summary: 'One environment',
        params: EnvironmentParams,
        querystring: NoQuery,
        response: { 200: EnvironmentView, 404: ErrorBody },
      },
    },
    async (request) => ctx.environments.get(request.params.name),
  );

  api.get(
    '/api/environments/:name/sbom',
    {
      schema: {
        tags: ['environments'],
        summary: 'CycloneDX 1.5 software bill of materials of the environment built on this host (every Debian package, with its source package)',
        params: EnvironmentParams,
        querystring: NoQuery,
        response: { 200: CycloneDxBom, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const bom = await ctx.environments.sbom(request.params.name);
      void reply.header('content-type', 'application/vnd.cyclonedx+json; version=1.5');
      return bom;
    },
  );
}
