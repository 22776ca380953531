/**
 * Wires a Crucible process together from its configuration: picks the storage, queue and bus
 * adapters (embedded or scale-out), the sandbox backends, and builds the use cases on top. This
 * is the only place that knows which adapter is behind which port.
 */
import type { Logger as PinoLogger } from 'pino';
import { AccessControl } from '../app/access.js';
import { AuditTrail } from '../app/audit.js';
import { EnvironmentQueries } from '../app/environments.js';
import { EvaluationLifecycle } from '../app/evaluation-lifecycle.js';
import { EvaluationService } from '../app/evaluation-service.js';
import { EventLogReader } from '../app/event-log-reader.js';
import { LoadHistorySampler } from '../app/load-history.js';
import { QuotaService } from '../app/quotas.js';
import { Reaper } from '../app/reaper.js';
import { StatusFeed } from '../app/status-feed.js';
import { SyntaxChecker } from '../app/syntax-check.js';
import { SessionHost } from '../app/session-host.js';
import { SessionService } from '../app/session-service.js';
import type { SessionLink } from '../ports/session-link.js';
import { newWorkerId } from '../worker/worker.js';
import { SystemQueries } from '../app/system-queries.js';
import { WebSessions, type WebSessionOptions } from '../app/web-sessions.js';
import { OpenIdConnectProvider } from '../identity/openid-connect.js';
import { ttlCache } from '../app/ttl-cache.js';
import { PrometheusMetrics } from '../metrics/prometheus.js';
import type { EventBus } from '../ports/bus.js';
import type { HostEnvironments } from '../ports/host-environments.js';
import type { EnvironmentCatalogue } from '../ports/environments.js';
import type { Metrics } from '../ports/metrics.js';
import type { JobQueue } from '../ports/queue.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { SandboxBackends } from '../ports/sandbox.js';
import type { Storage } from '../ports/storage.js';
import { FileEnvironmentCatalogue } from '../sandbox/environments/catalogue.js';
import type { Tracing } from '../ports/tracing.js';
import { NO_TRACING } from '../app/no-tracing.js';
import { closeSandboxBackends, createSandboxBackends } from '../sandbox/index.js';
import { largeOutputCollector } from '../memory/large-output-collector.js';
import type { MemoryReclaimer } from '../ports/memory.js';
import { openEmbeddedAdapters, openScaleOutAdapters, type Adapters } from './adapters.js';
import { isEmbedded, type PlatformConfig } from './config.js';
import { builtEnvironments } from './host-environments.js';

/** The use cases, built once per process on top of the adapters. */
export interface UseCases {
  lifecycle: EvaluationLifecycle;
  evaluations: EvaluationService;
  environments: EnvironmentQueries;
  events: EventLogReader;
  statusFeed: StatusFeed;
  system: SystemQueries;
  syntaxChecker: SyntaxChecker;
  reaper: Reaper;
  /** Recent queue depth and running count for the dashboard; only an API process starts it. */
  loadHistory: LoadHistorySampler;
  access: AccessControl;
  audit: AuditTrail;
  quotas: QuotaService;
  sessions: SessionService;
  /** Browser sign-in (OpenID Connect when configured, API keys) and its cookie sessions. */
  webSessions: WebSessions;
  /** The sessions this process holds (null where no sandboxes run, e.g. an API-only instance). */
  sessionHost: SessionHost | null;
  /** The id this process's worker registers under, which is also its session host's id (null without workers). */
  workerId: string | null;
}

export interface Platform extends UseCases {
  config: PlatformConfig;
  storage: Storage;
  queue: JobQueue;
  bus: EventBus;
  sandboxes: SandboxBackends;
  /** What is available on this host: a worker serves these unless config.environments narrows them. */
  hostEnvironments: HostEnvironments;
  /** Environments declared in the repository and their builds on this host. */
  catalogue: EnvironmentCatalogue;
  /** This process's metrics (Prometheus); the roles add their scrape-time gauges and serve it. */
  metrics: Metrics;
  /** Spans (OpenTelemetry when the OTEL_* variables ask for traces, else the no-op tracer). */
  tracing: Tracing;
  /** Hands a large output's memory back once it is dropped (the process's one collector). */
  memory: MemoryReclaimer;
  log: PinoLogger;
  close(): Promise<void>;
}

/**
 * The dashboard's load history: a sample every 2 s for 15 minutes (the dashboard's window) is 450
 * samples, a chart as smooth as the live one, for two small queries per 2 s per API instance.
 */
const LOAD_HISTORY = { intervalMs: 2_000, keepMs: 15 * 60_000 };

function buildUseCases(
  config: PlatformConfig,
  ports: {
    storage: Storage;
    queue: JobQueue;
    bus: EventBus;
    sandboxes: SandboxBackends;
    metrics: Metrics;
    catalogue: EnvironmentCatalogue;
    tracing: Tracing;
    rateLimiter: RateLimiter;
    sessionLink: SessionLink;
    memory: MemoryReclaimer;
  },
  log: PinoLogger,
): UseCases {
  const { storage, queue, bus, sandboxes, metrics, catalogue, tracing, rateLimiter, sessionLink, memory } = ports;
  // Sessions live where sandboxes run, on the worker's host (same id, so the registry's heartbeats say whether it lives).
  const workerId = config.workers > 0 ? newWorkerId() : null;
  const sessionHost = workerId ? new SessionHost({ store: storage.sessions, sandboxes, bus, log }, workerId) : null;
  const lifecycle = new EvaluationLifecycle({ storage, bus, log, metrics });
  const events = new EventLogReader({ storage, bus });
  // Open sessions count against their project's max_sessions wherever they are held (they are in storage).
  const quotas = new QuotaService({
    store: storage.quotas,
    stats: storage.stats,
    sessions: { openSessions: (project) => storage.sessions.countOpen(project) },
  });
  const sessions = new SessionService({
    store: storage.sessions,
    link: sessionLink,
    bus,
    log,
    workers: () => storage.workers.list(),
    livenessWindowMs: config.livenessWindowMs,
    quotas,
  });
  const environments = new EnvironmentQueries({
    catalogue,
    workers: ttlCache(1000, () => storage.workers.list()),
    sandboxes,
    livenessWindowMs: config.livenessWindowMs,
  });
  const evaluations = new EvaluationService(
    { storage, queue, bus, lifecycle, reader: events, environments, log, metrics, tracing, quotas, memory },
    { maxQueueDepth: config.maxQueueDepth, cancelGraceMs: config.cancelGraceMs, livenessWindowMs: config.livenessWindowMs },
  );
  const reaper = new Reaper(
    { storage, queue, lifecycle, log, sessions },
    { livenessWindowMs: config.livenessWindowMs, maxAttempts: config.maxAttempts, requeueAfterMs: Math.max(5_000, config.livenessWindowMs) },
  );
  const access = new AccessControl(
    storage.apiKeys,
    {
      mode: config.auth ?? 'off',
      maxFailuresPerMinute: config.authFailuresPerMinute,
      keyRate: config.keyRatePerSecond > 0 ? { perSecond: config.keyRatePerSecond, burst: config.keyRateBurst } : undefined,
    },
    rateLimiter,
  );
  const loadHistory = new LoadHistorySampler({ queue, stats: storage.stats, log }, LOAD_HISTORY);
  return {
    lifecycle,
    evaluations,
    environments,
    events,
    statusFeed: new StatusFeed({ storage, bus }),
    system: new SystemQueries(
      { storage, queue, bus, sandboxes, loadHistory },
      { maxQueueDepth: config.maxQueueDepth, livenessWindowMs: config.livenessWindowMs },
    ),
    syntaxChecker: new SyntaxChecker(sandboxes.bubblewrap),
    reaper,
    loadHistory,
    access,
    webSessions: new WebSessions({ store: storage.webSessions, keys: storage.apiKeys, access }, webSessionOptions(config)),
    audit: new AuditTrail(storage.audit),
    quotas,
    sessions,
    sessionHost,
    workerId,
  };
}

/** Web sessions' lifetime, and the OpenID Connect provider when one is configured. */
function webSessionOptions(config: PlatformConfig): WebSessionOptions {
  const ttlMs = config.webSessionTtlHours * 3_600_000;
  if (!config.oidcIssuer || !config.oidcClientId) return { ttlMs };
  const provider = new OpenIdConnectProvider({
    issuer: config.oidcIssuer,
    clientId: config.oidcClientId,
    clientSecret: config.oidcClientSecret,
    scopes: config.oidcScopes,
    name: config.oidcName ?? new URL(config.oidcIssuer).host,
  });
  return {
    ttlMs,
    oidc: {
      provider,
      issuer: config.oidcIssuer,
      claims: {
        roleClaim: config.oidcRoleClaim,
        projectClaim: config.oidcProjectClaim,
        defaultRole: config.oidcDefaultRole,
        defaultProject: config.oidcDefaultProject,
      },
    },
  };
}

/** `tracing` is shut down (its last spans exported) after everything else has closed. */
export async function openPlatform(config: PlatformConfig, log: PinoLogger, tracing: Tracing = NO_TRACING): Promise<Platform> {
  const cleanups: Adapters['cleanups'] = [() => tracing.shutdown()];
  const metrics = new PrometheusMetrics();
  try {
    const { storage, queue, bus, rateLimiter, sessionLink } = isEmbedded(config)
      ? await openEmbeddedAdapters(config, cleanups, metrics)
      : await openScaleOutAdapters(config, cleanups, metrics);
    // Warm sandboxes only where programs run: an API-only instance needs one now and then (syntax checks).
    const sandboxes = await createSandboxBackends({ enabled: config.sandboxes, log, warm: config.workers > 0, lanes: config.workers });
    cleanups.push(() => closeSandboxBackends(sandboxes));
    const catalogue = new FileEnvironmentCatalogue();
    const memory = largeOutputCollector;
    const useCases = buildUseCases(config, { storage, queue, bus, sandboxes, metrics, catalogue, tracing, rateLimiter, sessionLink, memory }, log);
    if (useCases.sessionHost) {
      // Embedded: this process is the only one using the data dir, so every open session belonged
      // to a process that is gone. Ended, never left looking alive.
      if (isEmbedded(config)) await useCases.sessionHost.endLost(undefined, 'the server holding the session restarted or crashed');
      const host = useCases.sessionHost;
      const served = await sessionLink.serve(host.hostId, host);
      // Cleanups run in reverse: the sessions end (worker_shutdown) while requests still reach them, then the link stops listening.
      cleanups.push(() => served.close());
      cleanups.push(() => host.close());
    }
    let closed = false;
    return {
      ...useCases,
      config,
      storage,
      queue,
      bus,
      sandboxes,
      hostEnvironments: builtEnvironments(catalogue),
      catalogue,
      metrics,
      tracing,
      memory,
      log,
      async close() {
        if (closed) return;
        closed = true;
        await useCases.reaper.stop();
        await useCases.loadHistory.stop();
        await runCleanups(cleanups, log);
      },
    };
  } catch (err) {
    await runCleanups(cleanups, log);
    throw err;
  }
}

async function runCleanups(cleanups: Array<() => Promise<void> | void>, log: PinoLogger): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      log.warn({ err: String(err) }, 'shutdown step failed');
    }
  }
}
