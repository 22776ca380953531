/**
 * Authentication at the HTTP edge: every request to /api/* is tied to an Actor (from its
 * `Authorization: Bearer <key>`, else its web session cookie, or the anonymous admin while auth is
 * off) before any route runs; what the actor may do is decided by the use cases it is passed to.
 * A change (POST, PUT, DELETE…) authenticated by the cookie must carry the session's CSRF token in
 * `X-CSRF-Token`; one with a Bearer key needs none (no browser sends that header by itself).
 * Open without a key: /healthz, /readyz (probes), /docs (the API description, no data), the web
 * UI's static files (which themselves call /api/*) and the sign-in routes. Also the key routes
 * (admin only).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ANONYMOUS_ACTOR, ApiKeyInfo, ApiKeyList, CreateApiKeyRequest, CreatedApiKey, type Actor } from '../domain/access.js';
import { ErrorBody } from '../domain/errors.js';
import { unauthenticated, type AccessControl } from '../app/access.js';
import { WebSessions } from '../app/web-sessions.js';
import type { StoredWebSession } from '../domain/web-session.js';
import type { AuditTrail } from '../app/audit.js';
import { AuditPage, AuditQuery, AuditVerification, type AuditOutcome } from '../domain/audit.js';
import type { ApiContext } from './context.js';
import { CSRF_HEADER, SESSION_COOKIE, readCookie } from './cookies.js';
import { NoQuery } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for every /api/* request by installAuthentication. */
    actor?: Actor;
    /** The web session this request was authenticated by (none: a key, or anonymous). */
    webSession?: StoredWebSession;
    /** What an audited request acted on, when only its response says (a new evaluation's id). */
    auditTarget?: string;
  }
}

/** Signing in needs no caller (it makes one); nor does asking how to sign in. */
const SIGN_IN_PATHS = new Set(['/api/auth/config', '/api/auth/key-sign-in', '/api/auth/oidc/login', '/api/auth/oidc/callback']);

/** Only /api/* needs a caller; /healthz, /readyz, /docs, the web UI's files and signing in are open. */
export function needsActor(url: string): boolean {
  const path = url.split('?')[0]!;
  return (path === '/api' || path.startsWith('/api/')) && !SIGN_IN_PATHS.has(path);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The caller of this request (the anonymous admin where no authentication ran). */
export function actorOf(request: FastifyRequest): Actor {
  return request.actor ?? ANONYMOUS_ACTOR;
}

export function installAuthentication(app: FastifyInstance, access: AccessControl, webSessions: WebSessions): void {
  app.addHook('onRequest', async (request) => {
    if (!needsActor(request.url)) return;
    // An Authorization header wins: scripts behave the same in a browser that also holds a session.
    const secret = request.headers.authorization === undefined ? readCookie(request.headers.cookie, SESSION_COOKIE) : undefined;
    if (secret !== undefined) {
      const resolved = await webSessions.resolve(secret);
      if (resolved) {
        request.actor = resolved.actor;
        request.webSession = resolved.session;
        if (!SAFE_METHODS.has(request.method)) {
          const token = request.headers[CSRF_HEADER];
          WebSessions.assertCsrf(secret, Array.isArray(token) ? undefined : token);
        }
        await access.admitRequest(request.actor);
        return;
      }
      // A stale cookie while auth is off: the caller is the anonymous admin like everyone else.
      if (access.mode === 'required') throw unauthenticated('your web session has ended (signed out, expired or revoked): sign in again');
    }
    request.actor = await access.authenticate(request.headers.authorization, request.ip);
    await access.admitRequest(request.actor);
  });
}

/** Mutating routes and the audit action they are recorded as (method + route pattern). */
export const AUDITED_ROUTES: Record<string, string> = {
  'POST /api/evaluations': 'evaluation.submit',
  'POST /api/evaluations/batch': 'evaluation.submit',
  'POST /api/evaluations/:id/cancel': 'evaluation.cancel',
  'POST /api/sessions': 'session.create',
  'POST /api/sessions/:id/exec': 'session.exec',
  'PUT /api/sessions/:id/files': 'session.file_write',
  'DELETE /api/sessions/:id': 'session.end',
  'POST /api/keys': 'key.create',
  'DELETE /api/keys/:id': 'key.revoke',
  'PUT /api/projects/:project/quota': 'quota.set',
  'POST /api/auth/key-sign-in': 'auth.sign_in',
  'GET /api/auth/oidc/callback': 'auth.sign_in',
  'POST /api/auth/sign-out': 'auth.sign_out',
};

function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'success';
  return status === 401 || status === 403 ? 'denied' : 'failed';
}

/**
 * Appends every mutating request (whatever its outcome) and every refused authentication to the
 * audit log, after the response: who, what, on what, how it ended, from where, which request.
 */
export function installAudit(app: FastifyInstance, audit: AuditTrail): void {
  app.addHook('onSend', async (request, reply, payload) => {
    // The id of what was created is only in the response (never the key itself: ids only).
    if (reply.statusCode < 300 && typeof payload === 'string' && AUDITED_ROUTES[`${request.method} ${request.routeOptions.url}`]) {
      // An evaluation (possibly megabytes of output with ?wait) starts with its id: read just that.
      const leadingId = /^\{"id":"([A-Za-z0-9_-]{1,100})"/.exec(payload.slice(0, 200));
      if (leadingId) request.auditTarget = leadingId[1];
      else if (payload.length <= 1 << 20) {
        try {
          const body = JSON.parse(payload) as { id?: unknown; ids?: unknown };
          if (typeof body.id === 'string') request.auditTarget = body.id;
          else if (Array.isArray(body.ids)) request.auditTarget = body.ids.join(',');
        } catch {
          /* not JSON: no target from the body */
        }
      }
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    const refused = (reply.statusCode === 401 || reply.statusCode === 429) && needsActor(request.url) && request.actor === undefined;
    const action = refused ? 'auth.refused' : AUDITED_ROUTES[route];
    if (!action) return;
    const actor = request.actor;
    const params = request.params as { id?: unknown; project?: unknown } | undefined;
    try {
      await audit.record({
        actor: actor?.id ?? 'unknown',
        role: actor?.role ?? null,
        project: actor?.project ?? null,
        action,
        target:
          request.auditTarget ??
          (typeof params?.id === 'string'
            ? params.id
            : typeof params?.project === 'string'
              ? params.project
              : refused
                ? `${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`
                : null),
        outcome: outcomeOf(reply.statusCode),
        source: request.ip ?? null,
        request_id: String(request.id),
        detail: { status: reply.statusCode },
      });
    } catch (err) {
      request.log.error({ err: String(err), action }, 'audit log append failed');
    }
  });
}

/**
 * The error answers of a route on the access-control API (keys, audit, quotas): the
 * authentication hook's (401 no or bad key, 429 rate limited, 503 key store unreachable), the
 * use case's role check (403), and the route's own validation and lookup (400, 404).
 */
export const accessRouteErrors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody, 503: ErrorBody };
const errors = accessRouteErrors;
const KeyIdParams = z.object({ id: z.string().min(1).max(64) });

export function keyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/api/keys',
    {
      schema: {
        tags: ['access'],
        summary: 'Create an API key (admin)',
        description: 'The answer carries the key itself, once; only its SHA-256 is stored.',
        body: CreateApiKeyRequest,
        querystring: NoQuery,
        response: { 201: CreatedApiKey, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .header('Cache-Control', 'no-store')
        .send(await ctx.access.createKey(actorOf(request), request.body)),
  );

  api.get(
    '/api/keys',
    {
      schema: { tags: ['access'], summary: 'List API keys, never their secrets (admin)', querystring: NoQuery, response: { 200: ApiKeyList, ...errors } },
    },
    async (request) => ({ keys: await ctx.access.listKeys(actorOf(request)) }),
  );

  api.delete(
    '/api/keys/:id',
    {
      schema: {
        tags: ['access'],
        summary: 'Revoke an API key (admin); it stops working at once',
        params: KeyIdParams,
        querystring: NoQuery,
        response: { 200: ApiKeyInfo, ...errors },
      },
    },
    async (request) => ctx.access.revokeKey(actorOf(request), request.params.id),
  );
}

export function auditRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/audit',
    {
      schema: {
        tags: ['access'],
        summary: 'The audit log, oldest first, filtered and paginated (admin)',
        description: 'Every mutating action and refused authentication, each chained to the previous by a hash (`crucible audit verify` checks the chain).',
        querystring: AuditQuery,
        response: { 200: AuditPage, ...errors },
      },
    },
    async (request) => ctx.audit.list(actorOf(request), request.query),
  );

  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/audit/verify',
    {
      schema: {
        tags: ['access'],
        summary: 'Check the audit log’s hash chain (admin)',
        description: 'Walks the whole log: reads every entry, so it takes longer as the log grows.',
        querystring: NoQuery,
        response: { 200: AuditVerification, ...errors },
      },
    },
    async (request) => ctx.audit.verifyFor(actorOf(request)),
  );
}
