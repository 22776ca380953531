/**
 * Access control use cases: who is calling (authenticate), what they may do (authorize), and the
 * API keys themselves (create, list, revoke). Keys look like `crk_<id>_<secret>`: the id names the
 * stored row, the secret is 32 random bytes (base64url) and is stored only as its SHA-256, which
 * is compared in constant time. A key is shown once, when created.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ANONYMOUS_ACTOR,
  API_KEY_ID,
  CreateApiKeyRequest,
  type Actor,
  type ApiKeyInfo,
  type AuthMode,
  type CreatedApiKey,
  type Role,
} from '../domain/access.js';
import { CrucibleError, notFound } from '../domain/errors.js';
import type { ApiKeyStore, StoredApiKey } from '../ports/storage.js';

const KEY_FORMAT = /^crk_(key_[a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** last_used_at is written at most this often per key (one write per request would be wasteful). */
const TOUCH_EVERY_MS = 60_000;

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

function newKeyId(): string {
  const bytes = randomBytes(16);
  let id = 'key_';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

export const unauthenticated = (message: string) => new CrucibleError('unauthenticated', message);
export const forbidden = (message: string) => new CrucibleError('forbidden', message);

/** Actions a role may take (project scoping is checked by the use cases that read evaluations). */
export type Action =
  'evaluations:read' | 'evaluations:submit' | 'evaluations:cancel' | 'sessions:read' | 'sessions:use' | 'system:read' | 'keys:manage' | 'audit:read';

const GRANTS: Record<Role, readonly Action[]> = {
  admin: ['evaluations:read', 'evaluations:submit', 'evaluations:cancel', 'sessions:read', 'sessions:use', 'system:read', 'keys:manage', 'audit:read'],
  researcher: ['evaluations:read', 'evaluations:submit', 'evaluations:cancel', 'sessions:read', 'sessions:use', 'system:read'],
  viewer: ['evaluations:read', 'sessions:read', 'system:read'],
};

export function can(actor: Actor, action: Action): boolean {
  return GRANTS[actor.role].includes(action);
}

/** Throws 403 `forbidden` unless the actor's role grants the action. */
export function authorize(actor: Actor, action: Action): void {
  if (!can(actor, action)) throw forbidden(`a ${actor.role} may not do this (${action})`);
}

/** May the actor see something of this project? Admins see every project. */
export function seesProject(actor: Actor, project: string): boolean {
  return actor.role === 'admin' || actor.project === project;
}

function info(key: StoredApiKey): ApiKeyInfo {
  const { secret_sha256: _secret, ...rest } = key;
  void _secret;
  return rest;
}

export interface AccessControlOptions {
  mode: AuthMode;
  now?: () => number;
  /** Failed authentications one source address may make per minute before getting 429. */
  maxFailuresPerMinute?: number;
}

const FAILURE_WINDOW_MS = 60_000;

export class AccessControl {
  private readonly now: () => number;
  private readonly touched = new Map<string, number>();
  /** Per source address: failed authentications in the current window. */
  private readonly failures = new Map<string, { since: number; count: number }>();

  constructor(
    private readonly keys: ApiKeyStore,
    readonly options: AccessControlOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get mode(): AuthMode {
    return this.options.mode;
  }

  /**
   * The caller behind an `Authorization` header. Auth off: everyone is the anonymous admin of the
   * default project (a key, if sent, is still honoured so scripts behave the same either way).
   * Auth required: a valid, unexpired, unrevoked key, else 401 `unauthenticated`.
   */
  async authenticate(header: string | undefined, source?: string): Promise<Actor> {
    if (source === undefined) return this.check(header);
    const now = this.now();
    const window = this.failures.get(source);
    const limit = this.options.maxFailuresPerMinute ?? 30;
    if (window && now - window.since < FAILURE_WINDOW_MS && window.count >= limit) {
      const retryAfterS = Math.max(1, Math.ceil((window.since + FAILURE_WINDOW_MS - now) / 1000));
      throw new CrucibleError('rate_limited', `too many failed authentications from this address; retry in ${retryAfterS} s`, undefined, retryAfterS);
    }
    try {
      return await this.check(header);
    } catch (err) {
      if (err instanceof CrucibleError && err.code === 'unauthenticated') {
        const current = window && now - window.since < FAILURE_WINDOW_MS ? window : { since: now, count: 0 };
        current.count++;
        this.failures.set(source, current);
        if (this.failures.size > 10_000) this.forgetOldFailures(now);
      }
      throw err;
    }
  }

  private forgetOldFailures(now: number): void {
    for (const [source, w] of this.failures) if (now - w.since >= FAILURE_WINDOW_MS) this.failures.delete(source);
  }

  private async check(header: string | undefined): Promise<Actor> {
    if (header === undefined || header === '') {
      if (this.mode === 'off') return ANONYMOUS_ACTOR;
      throw unauthenticated('this server requires an API key: send `Authorization: Bearer <key>`');
    }
    const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
    const parts = match ? KEY_FORMAT.exec(match[1]!) : null;
    if (!parts) throw unauthenticated('malformed Authorization header: expected `Bearer crk_…`');
    const [, id, secret] = parts as unknown as [string, string, string];
    const stored = await this.keys.get(id);
    const presented = Buffer.from(sha256Hex(secret), 'hex');
    // Compare even when the key is unknown, so timing does not tell known ids from unknown ones.
    const expected = Buffer.from(stored?.secret_sha256 ?? '0'.repeat(64), 'hex');
    const matches = expected.length === presented.length && timingSafeEqual(expected, presented);
    if (!stored || !matches) throw unauthenticated('unknown API key');
    if (stored.revoked_at !== null) throw unauthenticated('this API key was revoked');
    const now = this.now();
    if (stored.expires_at !== null && Date.parse(stored.expires_at) <= now) throw unauthenticated('this API key has expired');
    if (now - (this.touched.get(id) ?? 0) >= TOUCH_EVERY_MS) {
      this.touched.set(id, now);
      await this.keys.touch(id, new Date(now).toISOString());
    }
    return { id: stored.id, role: stored.role, project: stored.project };
  }

  /** Creates a key; the returned `key` is the only time the secret is ever shown. */
  async createKey(actor: Actor, request: CreateApiKeyRequest): Promise<CreatedApiKey> {
    authorize(actor, 'keys:manage');
    const input = CreateApiKeyRequest.parse(request);
    const id = newKeyId();
    const secret = randomBytes(32).toString('base64url');
    const now = this.now();
    const stored: StoredApiKey = {
      id,
      name: input.name,
      role: input.role,
      project: input.project,
      secret_sha256: sha256Hex(secret),
      created_at: new Date(now).toISOString(),
      expires_at: input.expires_in_days === undefined ? null : new Date(now + input.expires_in_days * 86_400_000).toISOString(),
      last_used_at: null,
      revoked_at: null,
    };
    await this.keys.create(stored);
    return { ...info(stored), key: `crk_${id}_${secret}` };
  }

  async listKeys(actor: Actor): Promise<ApiKeyInfo[]> {
    authorize(actor, 'keys:manage');
    return (await this.keys.list()).map(info);
  }

  async revokeKey(actor: Actor, id: string): Promise<ApiKeyInfo> {
    authorize(actor, 'keys:manage');
    const revoked = API_KEY_ID.test(id) ? await this.keys.revoke(id, new Date(this.now()).toISOString()) : null;
    if (!revoked) throw notFound('API key', id);
    return info(revoked);
  }
}
