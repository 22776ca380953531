/**
 * Web sessions: the browser's sign-in, with OpenID Connect or by exchanging an API key, ends in a
 * cookie holding a random secret. Only the secret's SHA-256 is stored (a leaked database does not
 * sign anyone in), so sessions survive restarts, are shared by every API process, and end at once
 * when signed out. A session opened with a key also ends when that key is revoked or expires.
 *
 * CSRF: the token a cookie-authenticated change must carry in `X-CSRF-Token` is an HMAC of the
 * session's secret. The browser gets it in a readable cookie (double submit); a page of another
 * site can neither read it nor compute it, and it is bound to the session, so a token planted
 * from a sibling subdomain does not fit another person's session.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../domain/access.js';
import { CrucibleError } from '../domain/errors.js';
import { claimsToIdentity, type ClaimMapping, type MappedIdentity, type StoredWebSession } from '../domain/web-session.js';
import type { IdentityProvider, PendingSignIn } from '../ports/identity-provider.js';
import type { ApiKeyStore, WebSessionStore } from '../ports/storage.js';
import { sha256Hex, type AccessControl } from './access.js';

const SECRET_FORMAT = /^cws_[A-Za-z0-9_-]{43}$/;
/** Ended sessions are purged this long after they ended (kept a little for support questions). */
const PURGE_AFTER_MS = 86_400_000;
/** At most one purge per process this often (it runs on sign-in, never on a request's path). */
const PURGE_EVERY_MS = 600_000;

export const csrfFailed = (message: string) => new CrucibleError('csrf_failed', message);
export const signInFailed = (message: string) => new CrucibleError('sign_in_failed', message);

export interface WebSessionOptions {
  /** How long a web session lasts from sign-in. */
  ttlMs: number;
  /** OpenID Connect sign-in: the provider and how its claims map to role and project (none: keys only). */
  oidc?: { provider: IdentityProvider; claims: ClaimMapping; issuer: string };
  now?: () => number;
}

/** A session as opened: the cookie secret (shown to this browser only) and its CSRF token. */
export interface OpenedSession {
  secret: string;
  csrfToken: string;
  session: StoredWebSession;
}

export class WebSessions {
  private readonly now: () => number;
  private lastPurge = 0;

  constructor(
    private readonly deps: { store: WebSessionStore; keys: ApiKeyStore; access: AccessControl },
    readonly options: WebSessionOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The configured OpenID Connect provider's name, if there is one. */
  get oidcName(): string | null {
    return this.options.oidc?.provider.name ?? null;
  }

  /** The CSRF token that belongs to this session secret. */
  static csrfTokenFor(secret: string): string {
    return createHmac('sha256', secret).update('crucible csrf v1').digest('base64url');
  }

  /** Throws 403 `csrf_failed` unless `token` is this session's CSRF token. */
  static assertCsrf(secret: string, token: string | undefined): void {
    if (token === undefined || token === '') {
      throw csrfFailed('this request is authenticated by the session cookie and changes something: send the X-CSRF-Token header (the crucible_csrf cookie)');
    }
    const expected = Buffer.from(WebSessions.csrfTokenFor(secret));
    const given = Buffer.from(token);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw csrfFailed('the X-CSRF-Token header does not match this session');
  }

  /** The actor of a live session cookie, or null (unknown, expired, revoked, or its key no longer valid). */
  async resolve(secret: string): Promise<{ actor: Actor; session: StoredWebSession } | null> {
    if (!SECRET_FORMAT.test(secret)) return null;
    const session = await this.deps.store.get(sha256Hex(secret));
    if (!session || session.revoked_at !== null || Date.parse(session.expires_at) <= this.now()) return null;
    if (session.method === 'key') {
      const key = await this.deps.keys.get(session.actor);
      if (!key || key.revoked_at !== null || (key.expires_at !== null && Date.parse(key.expires_at) <= this.now())) return null;
    }
    return { actor: { id: session.actor, role: session.role, project: session.project }, session };
  }

  /**
   * Exchanges an API key for a web session (the key is checked like an Authorization header,
   * failed attempts counted per source address). The session lasts no longer than the key.
   */
  async signInWithKey(key: string, source?: string): Promise<OpenedSession> {
    const actor = await this.deps.access.authenticate(`Bearer ${key}`, source);
    const stored = await this.deps.keys.get(actor.id);
    const keyExpiry = stored?.expires_at ? Date.parse(stored.expires_at) : Infinity;
    return this.open({ subject: actor.id, name: stored?.name ?? actor.id, role: actor.role, project: actor.project }, 'key', keyExpiry);
  }

  /** Starts an OpenID Connect sign-in: where to send the browser and what to keep until it comes back. */
  async beginOidc(redirectUri: string): Promise<{ url: string; pending: PendingSignIn }> {
    const oidc = this.options.oidc;
    if (!oidc) throw new CrucibleError('not_found', 'no OpenID Connect provider is configured on this server');
    return oidc.provider.begin(redirectUri);
  }

  /** Completes an OpenID Connect sign-in from the provider's redirect back to us. */
  async completeOidc(callbackUrl: URL, pending: PendingSignIn | null): Promise<OpenedSession> {
    const oidc = this.options.oidc;
    if (!oidc) throw new CrucibleError('not_found', 'no OpenID Connect provider is configured on this server');
    const providerError = callbackUrl.searchParams.get('error');
    if (providerError) {
      const description = callbackUrl.searchParams.get('error_description');
      throw signInFailed(`the identity provider refused the sign-in: ${providerError}${description ? ` (${description.slice(0, 200)})` : ''}`);
    }
    if (!pending) throw signInFailed('this sign-in was not started in this browser, or took longer than 10 minutes; start it again');
    const claims = await oidc.provider.complete(callbackUrl, pending);
    const identity = claimsToIdentity(claims, oidc.claims);
    if ('refused' in identity) throw signInFailed(`signed in at the identity provider, but ${identity.refused}`);
    const host = new URL(oidc.issuer).host;
    return this.open({ ...identity, subject: `oidc:${host}:${identity.subject}` }, 'oidc', Infinity);
  }

  /** Ends the session of this cookie (true if there was one). */
  async signOut(secret: string): Promise<boolean> {
    if (!SECRET_FORMAT.test(secret)) return false;
    return this.deps.store.revoke(sha256Hex(secret), new Date(this.now()).toISOString());
  }

  private async open(identity: MappedIdentity, method: StoredWebSession['method'], notAfterMs: number): Promise<OpenedSession> {
    const now = this.now();
    const secret = `cws_${randomBytes(32).toString('base64url')}`;
    const session: StoredWebSession = {
      id_sha256: sha256Hex(secret),
      actor: identity.subject,
      name: identity.name.slice(0, 200),
      role: identity.role,
      project: identity.project,
      method,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(Math.min(now + this.options.ttlMs, notAfterMs)).toISOString(),
      revoked_at: null,
    };
    await this.deps.store.create(session);
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.deps.store.deleteEnded(new Date(now - PURGE_AFTER_MS).toISOString());
    }
    return { secret, csrfToken: WebSessions.csrfTokenFor(secret), session };
  }
}
