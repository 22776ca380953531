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
import type { BucketRule, RateLimiter } from '../ports/rate-limiter.js';
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
  | 'evaluations:read'
  | 'evaluations:submit'
  | 'evaluations:cancel'
  | 'sessions:read'
  | 'sessions:use'
  | 'system:read'
  | 'keys:manage'
  | 'audit:read'
  | 'quotas:manage';

const GRANTS: Record<Role, readonly Action[]> = {
  admin: [
    'evaluations:read',
    'evaluations:submit',
    'evaluations:cancel',
    'sessions:read',
    'sessions:use',
    'system:read',
    'keys:manage',
    'audit:read',
    'quotas:manage',
  ],
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
  /** Requests one API key may make: a burst of `burst`, refilled at `perSecond` (none: unlimited). */
  keyRate?: { perSecond: number; burst: number };
}

export const rateLimited = (message: string, waitMs: number) => {
  const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
  return new CrucibleError('rate_limited', `${message}; retry in ${retryAfterS} s`, undefined, retryAfterS);
};

export class AccessControl {
  private readonly now: () => number;
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly keys: ApiKeyStore,
    readonly options: AccessControlOptions,
    /**
     * Token buckets: per source address for failed authentications, per key for requests (shared
     * across API processes in scale-out). None (the offline admin tools): nothing is rate limited.
     */
    private readonly limiter?: RateLimiter,
  ) {
    this.now = options.now ?? Date.now;
  }

  get mode(): AuthMode {
    return this.options.mode;
  }

  /** Failed authentications: a bucket per source address, refilled over a minute. */
  private get failureRule(): BucketRule {
    const perMinute = this.options.maxFailuresPerMinute ?? 30;
    return { capacity: perMinute, refillPerSecond: perMinute / 60 };
  }

  /**
   * The caller behind an `Authorization` header. Auth off: everyone is the anonymous admin of the
   * default project (a key, if sent, is still honoured so scripts behave the same either way).
   * Auth required: a valid, unexpired, unrevoked key, else 401 `unauthenticated`. With a source
   * address, failures are counted per address; beyond the limit even a valid key gets 429.
   */
  async authenticate(header: string | undefined, source?: string): Promise<Actor> {
    if (source === undefined || !this.limiter) return this.check(header);
    const limiter = this.limiter;
    const bucket = `auth-failures:${source}`;
    const blockedMs = await limiter.peek(bucket, this.failureRule);
    if (blockedMs > 0) throw rateLimited('too many failed authentications from this address', blockedMs);
    try {
      return await this.check(header);
    } catch (err) {
      if (err instanceof CrucibleError && err.code === 'unauthenticated') await limiter.take(bucket, this.failureRule);
      throw err;
    }
  }

  /** 429 `rate_limited` when the actor's key has used up its request rate (the anonymous caller of auth off is not limited). */
  async admitRequest(actor: Actor): Promise<void> {
    const rate = this.options.keyRate;
    if (!rate || !this.limiter || actor.id === ANONYMOUS_ACTOR.id) return;
    const waitMs = await this.limiter.take(`key:${actor.id}`, { capacity: rate.burst, refillPerSecond: rate.perSecond });
    if (waitMs > 0) throw rateLimited(`API key ${actor.id} made more than ${rate.burst} requests at once (${rate.perSecond} a second sustained)`, waitMs);
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
