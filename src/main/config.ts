/**
 * Configuration of a Crucible process, from command-line flags with environment fallbacks. The
 * storage/queue choice is made here and nowhere else: no PostgreSQL/Redis URL means the embedded
 * default (SQLite + in-database queue + in-memory bus) in the data directory.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { AUTH_MODES, isLoopbackHost, ProjectName, ROLES, type AuthMode } from '../domain/access.js';
import { parseEnvironmentList } from '../domain/environment-routing.js';
import { ENVIRONMENTS, SANDBOX_BACKENDS } from '../domain/evaluation.js';

const env = process.env;

export const PlatformConfigSchema = z
  .object({
    dataDir: z.string().min(1),
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
      .optional(),
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, { message: 'must be a redis:// URL' })
      .optional(),
    /** Evaluations run at once by this process's local worker; 0 = no local worker. */
    workers: z.number().int().min(0).max(256),
    maxQueueDepth: z.number().int().min(1),
    heartbeatMs: z.number().int().min(100),
    livenessWindowMs: z.number().int().min(500),
    reaperIntervalMs: z.number().int().min(100),
    maxAttempts: z.number().int().min(1).max(10),
    cancelGraceMs: z.number().int().min(0),
    maxWaitS: z.number().min(0).max(600),
    /** Server-Sent-Event streams one API process holds open at once; more get 503. */
    maxStreams: z.number().int().min(1),
    /** MiB one API process keeps for large responses its clients have not read yet; beyond, 503. */
    maxPendingResponseMb: z.number().int().min(16),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    sandboxes: z.array(z.enum(SANDBOX_BACKENDS)).min(1),
    /**
     * Environments this process's worker serves (takes jobs of); unset: every environment
     * available on this host. Unused when the process runs no worker.
     */
    environments: z.array(z.enum(ENVIRONMENTS)).min(1).optional(),
    /**
     * `crucible worker` only: port of its own Prometheus endpoint (GET /metrics); none when absent.
     * (`crucible serve` exports /metrics on its API port.)
     */
    metricsPort: z.number().int().min(0).max(65535).optional(),
    /** Address the worker's metrics endpoint listens on: loopback unless the operator opens it up. */
    metricsHost: z.string().min(1),
    /** Key prefix in Redis and schema in PostgreSQL, so several deployments can share servers. */
    namespace: z.string().regex(/^[a-z][a-z0-9_]*$/),
    /** API keys required (`required`) or not (`off`); unset: decided by the listening address (see resolveAuthMode). */
    auth: z.enum(AUTH_MODES).optional(),
    /** Accept listening on a non-loopback address with auth off (anyone who can reach it may run code). */
    allowUnauthenticated: z.boolean(),
    /** Failed authentications one client address may make per minute; beyond, 429 until the minute is over. */
    authFailuresPerMinute: z.number().int().min(1),
    /** Requests per second one API key may make, sustained (0 = unlimited); shared by all API processes in scale-out. */
    keyRatePerSecond: z.number().min(0),
    /** Requests one API key may make at once before the sustained rate applies. */
    keyRateBurst: z.number().int().min(1),
    /** The URL browsers reach this server at, e.g. https://crucible.example.com (OIDC redirect URI; https: Secure cookies). */
    publicUrl: z
      .string()
      .regex(/^https?:\/\/[^/]+\/?$/, { message: 'must be http(s)://host[:port] without a path' })
      .optional(),
    /** How long a web session (browser sign-in) lasts. */
    webSessionTtlHours: z
      .number()
      .min(0.01)
      .max(24 * 90),
    /** OpenID Connect provider for web sign-in (its issuer URL); none: the web UI signs in with API keys only. */
    oidcIssuer: z.string().url().optional(),
    oidcClientId: z.string().min(1).optional(),
    /** None: a public client (PKCE alone). */
    oidcClientSecret: z.string().min(1).optional(),
    oidcScopes: z.string().min(1),
    /** The provider's name on the sign-in button (default: the issuer's host). */
    oidcName: z.string().min(1).max(60).optional(),
    /** Claim (dot path allowed) with the role, or a list containing it: admin, researcher or viewer. */
    oidcRoleClaim: z.string().min(1),
    /** Claim (dot path allowed) with the project. */
    oidcProjectClaim: z.string().min(1),
    /** Role when the role claim is absent (none: such a sign-in is refused). */
    oidcDefaultRole: z.enum(ROLES).optional(),
    /** Project when the project claim is absent (none: such a sign-in is refused). */
    oidcDefaultProject: ProjectName.optional(),
  })
  .refine((c) => Boolean(c.oidcIssuer) === Boolean(c.oidcClientId), {
    message: 'OpenID Connect needs both an issuer (CRUCIBLE_OIDC_ISSUER / --oidc-issuer) and a client id (CRUCIBLE_OIDC_CLIENT_ID / --oidc-client-id)',
  })
  .refine((c) => Boolean(c.databaseUrl) === Boolean(c.redisUrl), {
    message:
      'scale-out needs both a PostgreSQL URL (CRUCIBLE_DATABASE_URL / --database-url) and a Redis URL (CRUCIBLE_REDIS_URL / --redis-url); give both or neither',
  });
export type PlatformConfig = z.infer<typeof PlatformConfigSchema>;

function envInt(name: string): number | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : Number(v);
}

/** Defaults, overridable by CRUCIBLE_* environment variables, overridable by flags. */
export function defaultConfig(): PlatformConfig {
  return {
    dataDir: path.resolve(env.CRUCIBLE_DATA_DIR ?? '.crucible'),
    databaseUrl: env.CRUCIBLE_DATABASE_URL || undefined,
    redisUrl: env.CRUCIBLE_REDIS_URL || undefined,
    workers: envInt('CRUCIBLE_WORKERS') ?? Math.max(1, os.availableParallelism()),
    maxQueueDepth: envInt('CRUCIBLE_MAX_QUEUE_DEPTH') ?? 10_000,
    heartbeatMs: envInt('CRUCIBLE_HEARTBEAT_MS') ?? 1_000,
    // A dead worker's evaluations are re-queued within window + reaper interval (4.5 s); a live one
    // would have to miss four heartbeats in a row to be taken for dead.
    livenessWindowMs: envInt('CRUCIBLE_LIVENESS_WINDOW_MS') ?? 4_000,
    reaperIntervalMs: envInt('CRUCIBLE_REAPER_INTERVAL_MS') ?? 500,
    maxAttempts: envInt('CRUCIBLE_MAX_ATTEMPTS') ?? 3,
    cancelGraceMs: envInt('CRUCIBLE_CANCEL_GRACE_MS') ?? 3_000,
    maxWaitS: envInt('CRUCIBLE_MAX_WAIT_S') ?? 600,
    maxStreams: envInt('CRUCIBLE_MAX_STREAMS') ?? 1000,
    maxPendingResponseMb: envInt('CRUCIBLE_MAX_PENDING_RESPONSE_MB') ?? 256,
    logLevel: (env.CRUCIBLE_LOG_LEVEL as PlatformConfig['logLevel'] | undefined) ?? 'info',
    sandboxes: ['bubblewrap', 'gvisor'],
    environments: env.CRUCIBLE_ENVIRONMENTS ? parseEnvironmentList(env.CRUCIBLE_ENVIRONMENTS, 'CRUCIBLE_ENVIRONMENTS') : undefined,
    namespace: env.CRUCIBLE_NAMESPACE ?? 'crucible',
    metricsPort: envInt('CRUCIBLE_METRICS_PORT'),
    // Metrics reveal load and failure patterns: exposed beyond the host only when asked for.
    metricsHost: env.CRUCIBLE_METRICS_HOST || '127.0.0.1',
    auth: (env.CRUCIBLE_AUTH as AuthMode | undefined) || undefined,
    allowUnauthenticated: env.CRUCIBLE_ALLOW_UNAUTHENTICATED === '1' || env.CRUCIBLE_ALLOW_UNAUTHENTICATED === 'true',
    authFailuresPerMinute: envInt('CRUCIBLE_AUTH_FAILURES_PER_MINUTE') ?? 30,
    keyRatePerSecond: envInt('CRUCIBLE_KEY_RATE_PER_SECOND') ?? 50,
    keyRateBurst: envInt('CRUCIBLE_KEY_RATE_BURST') ?? 200,
    publicUrl: env.CRUCIBLE_PUBLIC_URL || undefined,
    webSessionTtlHours: envInt('CRUCIBLE_SESSION_TTL_HOURS') ?? 12,
    oidcIssuer: env.CRUCIBLE_OIDC_ISSUER || undefined,
    oidcClientId: env.CRUCIBLE_OIDC_CLIENT_ID || undefined,
    oidcClientSecret: env.CRUCIBLE_OIDC_CLIENT_SECRET || undefined,
    oidcScopes: env.CRUCIBLE_OIDC_SCOPES || 'openid profile email',
    oidcName: env.CRUCIBLE_OIDC_NAME || undefined,
    oidcRoleClaim: env.CRUCIBLE_OIDC_ROLE_CLAIM || 'crucible_role',
    oidcProjectClaim: env.CRUCIBLE_OIDC_PROJECT_CLAIM || 'crucible_project',
    oidcDefaultRole: (env.CRUCIBLE_OIDC_DEFAULT_ROLE as PlatformConfig['oidcDefaultRole']) || undefined,
    oidcDefaultProject: env.CRUCIBLE_OIDC_DEFAULT_PROJECT || undefined,
  };
}

export function resolveConfig(overrides: Partial<PlatformConfig>): PlatformConfig {
  const merged = { ...defaultConfig(), ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  const parsed = PlatformConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ')}`);
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.dataDir) };
}

export const isEmbedded = (config: PlatformConfig) => !config.databaseUrl;

/**
 * The auth mode a server listening on `host` runs with: the configured one, else `off` on a
 * loopback address (only this machine can reach it) and `required` anywhere else. Auth off on a
 * reachable address is refused unless explicitly accepted (--allow-unauthenticated).
 */
export function resolveAuthMode(config: Pick<PlatformConfig, 'auth' | 'allowUnauthenticated'>, host: string): AuthMode {
  const loopback = isLoopbackHost(host);
  const mode = config.auth ?? (loopback ? 'off' : 'required');
  if (mode === 'off' && !loopback && !config.allowUnauthenticated) {
    throw new Error(
      `refusing to listen on ${host} with auth off: anyone who can reach this address could run code and read every evaluation. ` +
        'Enable auth with --auth required (env CRUCIBLE_AUTH=required) and create a key with `crucible keys create --role admin --name NAME`, ' +
        'or accept the risk explicitly with --allow-unauthenticated (env CRUCIBLE_ALLOW_UNAUTHENTICATED=1).',
    );
  }
  return mode;
}
