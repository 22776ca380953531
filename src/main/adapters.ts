/**
 * The adapter sets behind the storage, queue and bus ports. The scale-out set (PostgreSQL,
 * BullMQ, Redis) is imported only when configured, so the embedded default never loads it.
 */
import type { EventBus } from '../ports/bus.js';
import type { Metrics } from '../ports/metrics.js';
import type { JobQueue } from '../ports/queue.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { SessionLink } from '../ports/session-link.js';
import type { Storage } from '../ports/storage.js';
import type { JobsDatabase } from '../queue/sqlite-jobs.js';
import { queryOperation, type QueryListener } from '../storage/query-log.js';
import type { PlatformConfig } from './config.js';
import { lockDataDir } from './data-dir-lock.js';

export interface Adapters {
  storage: Storage;
  queue: JobQueue;
  bus: EventBus;
  /** Token buckets: this process's memory when embedded, Redis (shared by every API process) in scale-out. */
  rateLimiter: RateLimiter;
  /** How the API reaches the worker holding a session: in process when embedded, Redis request/reply in scale-out. */
  sessionLink: SessionLink;
  /** Releases what was opened, in reverse order. */
  cleanups: Array<() => Promise<void> | void>;
}

/** Every storage query's latency (and failure) goes to the metrics, labelled by statement kind only. */
function queryMetrics(metrics: Metrics): QueryListener {
  return (sql, _parameters, durationMs, failed) => metrics.storageQuery(queryOperation(sql), durationMs / 1000, failed);
}

/** SQLite + in-database queue + in-memory bus, all in the data directory this process locks. */
export async function openEmbeddedAdapters(config: PlatformConfig, cleanups: Adapters['cleanups'], metrics: Metrics): Promise<Adapters> {
  const [
    { createSqliteKysely, createSqliteStorage, sqliteFilename },
    { createEmbeddedQueue },
    { createMemoryBus },
    { MemoryRateLimiter },
    { createLocalSessionLink },
  ] = await Promise.all([
    import('../storage/sqlite.js'),
    import('../queue/embedded-queue.js'),
    import('../events/memory-bus.js'),
    import('../ratelimit/memory-rate-limiter.js'),
    import('../events/local-session-link.js'),
  ]);
  cleanups.push(lockDataDir(config.dataDir));
  // One connection shared by the store and the queue: a submission's row and its job are written
  // through the same SQLite handle, opened here rather than by either adapter.
  const filename = sqliteFilename({ dataDir: config.dataDir });
  const db = createSqliteKysely(filename, undefined, queryMetrics(metrics));
  const storage = createSqliteStorage({ db });
  cleanups.push(() => storage.close());
  await storage.init();
  const queue = createEmbeddedQueue({ db: db.withTables<JobsDatabase>(), filename }, { pollIntervalMs: 1000 });
  cleanups.push(() => queue.close());
  const bus = createMemoryBus();
  cleanups.push(() => bus.close());
  const rateLimiter = new MemoryRateLimiter();
  const sessionLink = createLocalSessionLink();
  cleanups.push(() => sessionLink.close());
  return { storage, queue, bus, rateLimiter, sessionLink, cleanups };
}

/** PostgreSQL + BullMQ + Redis pub/sub, shared by every API and worker process of a deployment. */
export async function openScaleOutAdapters(config: PlatformConfig, cleanups: Adapters['cleanups'], metrics: Metrics): Promise<Adapters> {
  const [{ createPostgresStorage }, { createBullmqQueue }, { createRedisBus }, { RedisRateLimiter }, { createRedisSessionLink }] = await Promise.all([
    import('../storage/postgres.js'),
    import('../queue/bullmq-queue.js'),
    import('../events/redis-bus.js'),
    import('../ratelimit/redis-rate-limiter.js'),
    import('../events/redis-session-link.js'),
  ]);
  const storage = createPostgresStorage({ connectionString: config.databaseUrl!, schema: config.namespace, onQuery: queryMetrics(metrics) });
  cleanups.push(() => storage.close());
  await storage.init();
  const queue = createBullmqQueue({ connection: config.redisUrl!, prefix: config.namespace, ...jobLockTiming(config) });
  cleanups.push(() => queue.close());
  const bus = createRedisBus({ url: config.redisUrl!, prefix: config.namespace });
  cleanups.push(() => bus.close());
  const rateLimiter = new RedisRateLimiter({ url: config.redisUrl!, prefix: config.namespace });
  cleanups.push(() => rateLimiter.close());
  const sessionLink = createRedisSessionLink({ url: config.redisUrl!, prefix: config.namespace });
  cleanups.push(() => sessionLink.close());
  return { storage, queue, bus, rateLimiter, sessionLink, cleanups };
}

/**
 * BullMQ's job lock, timed on the liveness window. When a worker dies, the reaper re-queues its
 * evaluation once the heartbeat is older than the window, but the re-enqueue is a no-op while the
 * dead worker's job (same id) is still `active`: the evaluation runs again only when BullMQ's
 * stalled check gives the job back. With BullMQ's own 15 s + 15 s that took ~30 s; with the lock
 * lapsing within the window and a check every half window, re-delivery follows the re-queue.
 * A lock that lapses under a live worker (event loop blocked for a whole window) is harmless: the
 * second delivery finds the evaluation no longer `queued` and skips it.
 */
export function jobLockTiming(config: Pick<PlatformConfig, 'livenessWindowMs'>): { lockDurationMs: number; stalledIntervalMs: number } {
  return { lockDurationMs: config.livenessWindowMs, stalledIntervalMs: Math.max(250, Math.round(config.livenessWindowMs / 2)) };
}
