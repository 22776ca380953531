/**
 * The two process roles. `serve`: the HTTP API (+ web UI), a local worker unless --workers 0, and
 * the reaper. `worker`: only a worker (scale-out: PostgreSQL + Redis), no HTTP.
 * Both shut down gracefully on SIGINT/SIGTERM: stop taking work, let running evaluations finish
 * for a grace period, then kill their sandboxes and hand their evaluations back to the queue.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../api/server.js';
import { platformGauges } from '../app/platform-gauges.js';
import { StreamGate } from '../api/stream-gate.js';
import { servedEnvironments } from '../domain/environment-routing.js';
import type { Environment } from '../domain/evaluation.js';
import { Worker } from '../worker/worker.js';
import { isEmbedded, resolveAuthMode, type PlatformConfig } from './config.js';
import { createLogger } from './logger.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { openPlatform, type Platform } from './platform.js';
import { tracingFromEnvironment } from './tracing.js';

export interface Listen {
  host: string;
  port: number;
}

export interface RunningServer {
  platform: Platform;
  app: FastifyInstance;
  worker: Worker | null;
  url: string;
  stop(): Promise<void>;
}

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web');

/**
 * Re-queues what a previous life of this server held (its leftover sandboxes were already killed
 * when the sandbox backends started). In embedded mode this process owns the data dir (it holds
 * the lock), so every other worker registered in it belonged to a process that is gone.
 */
async function recoverEmbedded(platform: Platform, ownWorkerId: string | null): Promise<void> {
  await platform.reaper.sweep({ presumeDead: (id) => id !== ownWorkerId });
}

/**
 * The environments this process's worker serves: --environments if each is available on this
 * host, else all available here (a clear start-up error otherwise).
 */
async function workerEnvironments(platform: Platform): Promise<Environment[]> {
  return servedEnvironments(platform.config.environments, await platform.hostEnvironments.available());
}

function startWorker(platform: Platform, concurrency: number, environments: Environment[]): Worker {
  const { storage, queue, bus, lifecycle, sandboxes, log, config, metrics, tracing, quotas, memory } = platform;
  const worker = new Worker(
    { storage, queue, bus, lifecycle, sandboxes, log, metrics, tracing, quotas, memory },
    { concurrency, environments, heartbeatMs: config.heartbeatMs, id: platform.workerId ?? undefined },
  );
  metrics.addScrapeSource('worker', () => worker.gauges());
  return worker;
}

export async function startServer(configured: PlatformConfig, listen: Listen): Promise<RunningServer> {
  const config: PlatformConfig = { ...configured, auth: resolveAuthMode(configured, listen.host) };
  const tracing = await tracingFromEnvironment('serve');
  const log = createLogger(config.logLevel, 'serve', undefined, tracing);
  const platform = await openPlatform(config, log, tracing);
  let worker: Worker | null = null;
  try {
    worker = config.workers > 0 ? startWorker(platform, config.workers, await workerEnvironments(platform)) : null;
    if (isEmbedded(config)) await recoverEmbedded(platform, worker?.id ?? null);
    await worker?.start();
    platform.reaper.start(config.reaperIntervalMs, worker ? [worker.id] : []);
    platform.loadHistory.start();

    const streams = new StreamGate(config.maxStreams);
    // Queue and worker gauges come from shared storage: every API instance exports the same
    // values (dashboards take max() over instances); workers do not export them at all.
    platform.metrics.addScrapeSource('platform', platformGauges(platform.storage, config.livenessWindowMs));
    platform.metrics.addScrapeSource('streams', () => ({ openStreams: streams.count }));
    const app = await buildServer(
      {
        access: platform.access,
        audit: platform.audit,
        evaluations: platform.evaluations,
        quotas: platform.quotas,
        events: platform.events,
        statusFeed: platform.statusFeed,
        system: platform.system,
        environments: platform.environments,
        syntaxChecker: platform.syntaxChecker,
        sessions: platform.sessions,
        webSessions: platform.webSessions,
        publicUrl: config.publicUrl,
        maxWaitS: config.maxWaitS,
        streams,
        metrics: platform.metrics,
        tracing: platform.tracing,
        maxPendingResponseBytes: config.maxPendingResponseMb * 1024 * 1024,
        webRoot,
      },
      log,
    );
    const address = await app.listen({ host: listen.host, port: listen.port });
    log.info(
      {
        url: address,
        dataDir: isEmbedded(config) ? config.dataDir : undefined,
        workers: config.workers,
        environments: worker?.environments,
        mode: isEmbedded(config) ? 'embedded' : 'scale-out',
        auth: config.auth,
      },
      'crucible serving',
    );
    const url = `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${(app.server.address() as { port: number }).port}`;
    return {
      platform,
      app,
      worker,
      url,
      async stop() {
        await app.close();
        // Sessions end as worker_shutdown while this worker is still registered (else a reaper could call them lost).
        await platform.sessionHost?.close();
        await stopWorker(worker, 10_000);
        await platform.close();
      },
    };
  } catch (err) {
    worker?.abortAll();
    await platform.close();
    throw err;
  }
}

export interface RunningWorker {
  platform: Platform;
  worker: Worker;
  /** The worker's own Prometheus endpoint, when --metrics-port was given. */
  metricsUrl: string | null;
  stop(): Promise<void>;
}

export async function startWorkerProcess(config: PlatformConfig): Promise<RunningWorker> {
  if (isEmbedded(config)) {
    throw new Error(
      '`crucible worker` needs PostgreSQL and Redis (--database-url / --redis-url or CRUCIBLE_DATABASE_URL / CRUCIBLE_REDIS_URL); the embedded mode runs its workers inside `crucible serve`',
    );
  }
  const tracing = await tracingFromEnvironment('worker');
  const log = createLogger(config.logLevel, 'worker', undefined, tracing);
  const platform = await openPlatform(config, log, tracing);
  let environments: Environment[];
  try {
    environments = await workerEnvironments(platform);
    await requireASandbox(platform);
  } catch (err) {
    await platform.close();
    throw err;
  }
  const worker = startWorker(platform, Math.max(1, config.workers), environments);
  let metricsServer: MetricsServer | null = null;
  try {
    await worker.start();
    if (config.metricsPort !== undefined) {
      metricsServer = await startMetricsServer(platform.metrics, { host: config.metricsHost, port: config.metricsPort }, (err) =>
        log.warn({ err: String(err) }, 'rendering the metrics failed'),
      );
      log.info({ url: `${metricsServer.url}/metrics` }, 'worker metrics served');
    }
  } catch (err) {
    await stopWorker(worker, 0);
    await platform.close();
    throw err;
  }
  return {
    platform,
    worker,
    metricsUrl: metricsServer ? `${metricsServer.url}/metrics` : null,
    async stop() {
      // Sessions end as worker_shutdown while this worker is still registered (else a reaper could call them lost).
      await platform.sessionHost?.close();
      await stopWorker(worker, 10_000);
      await metricsServer?.close();
      await platform.close();
    },
  };
}

/**
 * A worker host where no sandbox works (no cgroups, no bubblewrap...) would take every job and
 * fail it as a platform error, draining the queue for the healthy hosts: it refuses to start.
 */
async function requireASandbox(platform: Platform): Promise<void> {
  const health = await Promise.all(Object.values(platform.sandboxes).map(async (b) => ({ name: b.name, ...(await b.health()) })));
  if (health.some((h) => h.ok)) return;
  const why = health.map((h) => `${h.name}: ${h.detail}`).join('; ') || 'none is enabled';
  throw new Error(`no sandbox backend works on this host, so this worker would fail every evaluation it took (${why})`);
}

/** Waits up to graceMs for running evaluations, then kills their sandboxes. */
async function stopWorker(worker: Worker | null, graceMs: number): Promise<void> {
  if (!worker) return;
  const timer = setTimeout(() => worker.abortAll(), graceMs);
  try {
    await worker.stop();
  } finally {
    clearTimeout(timer);
  }
}

/** Stops `stoppable` on SIGINT/SIGTERM; a second signal exits at once. */
export function stopOnSignals(stoppable: { stop(): Promise<void> }, log: (msg: string) => void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    log(`received ${signal}; shutting down (again to force)`);
    stoppable.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
