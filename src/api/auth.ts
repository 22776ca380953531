/**
 * Authentication at the HTTP edge: every request to /api/* is tied to an Actor (from its
 * `Authorization: Bearer <key>`, or the anonymous admin while auth is off) before any route runs;
 * what the actor may do is decided by the use cases it is passed to. Open without a key:
 * /healthz, /readyz (probes), /docs (the API description, no data) and the web UI's static files
 * (which themselves call /api/*). Also the key routes (admin only).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ANONYMOUS_ACTOR, ApiKeyInfo, ApiKeyList, CreateApiKeyRequest, CreatedApiKey, type Actor } from '../domain/access.js';
import { ErrorBody } from '../domain/errors.js';
import type { AccessControl } from '../app/access.js';
import type { ApiContext } from './context.js';
import { NoQuery } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for every /api/* request by installAuthentication. */
    actor?: Actor;
  }
}

/** Paths answered without authentication (exact, or a prefix ending in `/`). */
export const OPEN_PATHS = ['/healthz', '/readyz', '/docs', '/docs/'];

export function needsActor(url: string): boolean {
  const path = url.split('?')[0]!;
  return path === '/api' || path.startsWith('/api/');
}

/** The caller of this request (the anonymous admin where no authentication ran). */
export function actorOf(request: FastifyRequest): Actor {
  return request.actor ?? ANONYMOUS_ACTOR;
}

export function installAuthentication(app: FastifyInstance, access: AccessControl): void {
  app.addHook('onRequest', async (request) => {
    if (!needsActor(request.url)) return;
    request.actor = await access.authenticate(request.headers.authorization);
  });
}

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody };
const KeyIdParams = z.object({ id: z.string().min(1).max(64) });

export function keyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post('/api/keys', {
    schema: {
      tags: ['access'],
      summary: 'Create an API key (admin)',
      description: 'The answer carries the key itself, once; only its SHA-256 is stored.',
      body: CreateApiKeyRequest,
      querystring: NoQuery,
      response: { 201: CreatedApiKey, ...errors },
    },
  }, async (request, reply) => reply.code(201).header('Cache-Control', 'no-store').send(await ctx.access.createKey(actorOf(request), request.body)));

  api.get('/api/keys', {
    schema: { tags: ['access'], summary: 'List API keys, never their secrets (admin)', querystring: NoQuery, response: { 200: ApiKeyList, ...errors } },
  }, async (request) => ({ keys: await ctx.access.listKeys(actorOf(request)) }));

  api.delete('/api/keys/:id', {
    schema: { tags: ['access'], summary: 'Revoke an API key (admin); it stops working at once', params: KeyIdParams, querystring: NoQuery, response: { 200: ApiKeyInfo, ...errors } },
  }, async (request) => ctx.access.revokeKey(actorOf(request), request.params.id));
}
