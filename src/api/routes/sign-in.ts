/**
 * Web sign-in: OpenID Connect (authorization code + PKCE) and API-key sign-in both end in the
 * same HttpOnly session cookie; its CSRF token goes in a readable cookie the UI echoes in
 * `X-CSRF-Token` (checked in src/api/auth.ts). The key a person signs in with is exchanged here
 * and never stored by the browser.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Actor } from '../../domain/access.js';
import { ErrorBody } from '../../domain/errors.js';
import { AuthConfig, KeySignInRequest, SignedOut, WhoAmI, type StoredWebSession } from '../../domain/web-session.js';
import type { OpenedSession } from '../../app/web-sessions.js';
import type { PendingSignIn } from '../../ports/identity-provider.js';
import { actorOf } from '../auth.js';
import type { ApiContext } from '../context.js';
import { CSRF_COOKIE, SESSION_COOKIE, readCookie } from '../cookies.js';
import { NoQuery } from '../schemas.js';

const FLOW_COOKIE = 'crucible_oidc';
const FLOW_PATH = '/api/auth/oidc';
const FLOW_MAX_AGE_S = 600;
export const OIDC_LOGIN_PATH = `${FLOW_PATH}/login`;
export const OIDC_CALLBACK_PATH = `${FLOW_PATH}/callback`;

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody, 503: ErrorBody };

/** Secure cookies whenever the browser reaches us over HTTPS (the public URL says so behind a proxy). */
function isHttps(ctx: ApiContext, request: FastifyRequest): boolean {
  return ctx.publicUrl ? ctx.publicUrl.startsWith('https:') : request.protocol === 'https';
}

function cookie(name: string, value: string, opts: { maxAgeS: number; httpOnly: boolean; secure: boolean; path?: string }): string {
  return [
    `${name}=${value}`,
    `Path=${opts.path ?? '/'}`,
    `Max-Age=${Math.max(0, Math.floor(opts.maxAgeS))}`,
    'SameSite=Lax',
    ...(opts.httpOnly ? ['HttpOnly'] : []),
    ...(opts.secure ? ['Secure'] : []),
  ].join('; ');
}

function whoAmI(actor: Actor, via: WhoAmI['via'], session?: StoredWebSession): WhoAmI {
  return {
    id: actor.id,
    name: session?.name ?? (via === 'anonymous' ? 'anonymous (auth is off)' : actor.id),
    role: actor.role,
    project: actor.project,
    via,
    method: session?.method ?? null,
    expires_at: session?.expires_at ?? null,
  };
}

function setSessionCookies(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply, opened: OpenedSession): void {
  const secure = isHttps(ctx, request);
  const maxAgeS = (Date.parse(opened.session.expires_at) - Date.now()) / 1000;
  reply.header('set-cookie', [
    cookie(SESSION_COOKIE, opened.secret, { maxAgeS, httpOnly: true, secure }),
    cookie(CSRF_COOKIE, opened.csrfToken, { maxAgeS, httpOnly: false, secure }),
  ]);
  request.actor = { id: opened.session.actor, role: opened.session.role, project: opened.session.project };
}

function redirectUri(ctx: ApiContext, request: FastifyRequest): string {
  const base = ctx.publicUrl ?? `${request.protocol}://${request.host}`;
  return `${base.replace(/\/+$/, '')}${OIDC_CALLBACK_PATH}`;
}

function readPending(request: FastifyRequest): PendingSignIn | null {
  const raw = readCookie(request.headers.cookie, FLOW_COOKIE);
  if (!raw) return null;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<PendingSignIn>;
    const ok = [parsed.state, parsed.nonce, parsed.codeVerifier].every((v) => typeof v === 'string' && v.length > 0 && v.length < 200);
    return ok ? (parsed as PendingSignIn) : null;
  } catch {
    return null;
  }
}

/** The OIDC callback's query: whatever the provider sends (code, state, iss, error…), read by the OIDC library. */
const CallbackQuery = z.record(z.string(), z.string()).describe('code and state (or error and error_description) from the identity provider');

export function signInRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/api/auth/config',
    {
      schema: {
        tags: ['access'],
        summary: 'How the web UI may sign in (open)',
        querystring: NoQuery,
        response: { 200: AuthConfig },
      },
    },
    async () => ({
      mode: ctx.access.mode,
      oidc: ctx.webSessions.oidcName ? { name: ctx.webSessions.oidcName, login_url: OIDC_LOGIN_PATH } : null,
      key_sign_in: true,
    }),
  );

  api.get(
    '/api/auth/me',
    {
      schema: { tags: ['access'], summary: 'Who is calling: identity, role and project', querystring: NoQuery, response: { 200: WhoAmI, ...errors } },
    },
    async (request) => {
      const actor = actorOf(request);
      if (request.webSession) return whoAmI(actor, 'session', request.webSession);
      return whoAmI(actor, request.actor && request.headers.authorization ? 'key' : 'anonymous');
    },
  );

  api.post(
    '/api/auth/key-sign-in',
    {
      schema: {
        tags: ['access'],
        summary: 'Exchange an API key for a web session cookie (open)',
        description:
          'Sets the HttpOnly session cookie `crucible_session` and the CSRF cookie `crucible_csrf`. The session ends when signed out, after its lifetime, or when the key is revoked or expires.',
        body: KeySignInRequest,
        querystring: NoQuery,
        response: { 200: WhoAmI, ...errors },
      },
    },
    async (request, reply) => {
      const opened = await ctx.webSessions.signInWithKey(request.body.key, request.ip);
      setSessionCookies(ctx, request, reply, opened);
      reply.header('Cache-Control', 'no-store');
      return whoAmI(request.actor!, 'session', opened.session);
    },
  );

  api.get(
    OIDC_LOGIN_PATH,
    {
      schema: {
        tags: ['access'],
        summary: 'Start signing in with the OpenID Connect provider (open; a browser navigation)',
        description: 'Redirects (303) to the provider with a PKCE challenge, state and nonce, kept for 10 minutes in an HttpOnly cookie.',
        querystring: NoQuery,
        response: { 303: z.null().describe('To the identity provider'), ...errors },
      },
    },
    async (request, reply) => {
      const { url, pending } = await ctx.webSessions.beginOidc(redirectUri(ctx, request));
      const value = Buffer.from(JSON.stringify(pending)).toString('base64url');
      reply.header('set-cookie', cookie(FLOW_COOKIE, value, { maxAgeS: FLOW_MAX_AGE_S, httpOnly: true, secure: isHttps(ctx, request), path: FLOW_PATH }));
      reply.header('Cache-Control', 'no-store');
      return reply.code(303).redirect(url);
    },
  );

  api.get(
    OIDC_CALLBACK_PATH,
    {
      schema: {
        tags: ['access'],
        summary: 'Where the OpenID Connect provider sends the browser back (open)',
        description: 'Checks state, PKCE and the ID token, maps the claims to a role and project, sets the session cookies and redirects (303) to the UI.',
        querystring: CallbackQuery,
        response: { 303: z.null().describe('To the web UI, signed in'), ...errors },
      },
    },
    async (request, reply) => {
      const callbackUrl = new URL(request.url, redirectUri(ctx, request));
      // The flow cookie is single-use, whatever happens next (fastify appends each set-cookie).
      reply.header('set-cookie', cookie(FLOW_COOKIE, '', { maxAgeS: 0, httpOnly: true, secure: isHttps(ctx, request), path: FLOW_PATH }));
      const opened = await ctx.webSessions.completeOidc(callbackUrl, readPending(request));
      setSessionCookies(ctx, request, reply, opened);
      reply.header('Cache-Control', 'no-store');
      return reply.code(303).redirect('/');
    },
  );

  api.post(
    '/api/auth/sign-out',
    {
      schema: {
        tags: ['access'],
        summary: 'End this web session (its cookie stops working at once, everywhere)',
        description: 'Needs the X-CSRF-Token header like every cookie-authenticated change.',
        querystring: NoQuery,
        response: { 200: SignedOut, ...errors },
      },
    },
    async (request, reply) => {
      const secret = readCookie(request.headers.cookie, SESSION_COOKIE);
      const signedOut = request.webSession && secret ? await ctx.webSessions.signOut(secret) : false;
      const secure = isHttps(ctx, request);
      reply.header('set-cookie', [
        cookie(SESSION_COOKIE, '', { maxAgeS: 0, httpOnly: true, secure }),
        cookie(CSRF_COOKIE, '', { maxAgeS: 0, httpOnly: false, secure }),
      ]);
      return { signed_out: signedOut };
    },
  );
}
