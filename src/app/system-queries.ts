/**
 * The system views the API and dashboards read: queue depth and counts, workers with their load,
 * finished evaluations over time, limits and backends, and readiness. Read-only use cases over the
 * storage, queue, bus and sandbox ports.
 */
import { liveWorkers, unservedEnvironments } from '../domain/environment-routing.js';
import { ANONYMOUS_ACTOR, type Actor } from '../domain/access.js';
import { ENVIRONMENTS, EVALUATION_STATUSES, type EvaluationStatus } from '../domain/evaluation.js';
import { EXIT_CODE_GUIDE } from '../domain/exit-interpretation.js';
import { LIMIT_BOUNDS, REQUEST_BOUNDS } from '../domain/limits.js';
import { latencyStats } from '../domain/percentiles.js';
import type { ConfigResponse, HealthResponse, QueueStats, StatsResponse, WorkerList } from '../domain/system-views.js';
import type { EventBus } from '../ports/bus.js';
import type { JobQueue } from '../ports/queue.js';
import type { BackendHealth, SandboxBackend, SandboxBackends } from '../ports/sandbox.js';
import type { Storage } from '../ports/storage.js';
import { authorize } from './access.js';
import type { LoadHistorySampler } from './load-history.js';
import { ttlCache } from './ttl-cache.js';

/** Percentiles are taken over at most this many of the newest evaluations in the window (bounded cost). */
const LATENCY_SAMPLE = 20_000;

export interface SystemQueriesDeps {
  storage: Storage;
  queue: JobQueue;
  bus: EventBus;
  sandboxes: SandboxBackends;
  /** Recent queue depth and running count; without it (a process that serves no dashboard) stats() has no history. */
  loadHistory?: Pick<LoadHistorySampler, 'since' | 'options'>;
}

export interface SystemQueriesOptions {
  maxQueueDepth: number;
  /** A worker whose heartbeat is older than this is shown as not alive. */
  livenessWindowMs: number;
}

/** Bounds how long one readiness probe may take, so /readyz answers even when a dependency hangs. */
async function probe(check: () => Promise<unknown>, timeoutMs = 2000): Promise<{ ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** A backend's health within the probe's time bound; a check that throws or hangs is "not ok", never a failed request. */
async function sandboxHealth(backend: SandboxBackend): Promise<BackendHealth> {
  let health: BackendHealth = { ok: false, detail: 'no answer' };
  const probed = await probe(async () => {
    health = await backend.health();
  });
  return probed.ok ? health : { ok: false, detail: probed.detail ?? 'health check failed' };
}

const platformWide = (actor: Actor) => actor.role === 'admin';

export class SystemQueries {
  /** Counting every row costs hundreds of ms at a million rows on PostgreSQL: one count a second is plenty for a dashboard. */
  private readonly countByStatus: () => Promise<Record<EvaluationStatus, number>>;

  constructor(
    private readonly deps: SystemQueriesDeps,
    private readonly options: SystemQueriesOptions,
  ) {
    this.countByStatus = ttlCache(1000, () => deps.storage.stats.countByStatus());
  }

  /**
   * Admins see every project's numbers; anyone else their own project's (its queued count as the
   * depth). The platform-wide numbers would tell other teams' load and activity. The per-environment
   * rows (depth, live workers) stay platform-wide: they say whether a worker serves an environment.
   */
  async queue(actor: Actor = ANONYMOUS_ACTOR): Promise<QueueStats> {
    authorize(actor, 'system:read');
    const { storage, queue } = this.deps;
    const project = platformWide(actor) ? undefined : actor.project;
    const [[counts, depth, oldest], queued, workers] = await Promise.all([
      project
        ? storage.stats.countByStatus(project).then(async (c) => [c, c.queued, await storage.stats.oldestQueuedAt(project)] as const)
        : Promise.all([this.countByStatus(), queue.depth(), storage.stats.oldestQueuedAt()]),
      storage.stats.queuedByEnvironment(),
      storage.workers.list(),
    ]);
    const now = Date.now();
    const ageMs = (at: string | null) => (at ? Math.max(0, now - Date.parse(at)) : null);
    const alive = liveWorkers(workers, this.options.livenessWindowMs, now);
    const full = Object.fromEntries(EVALUATION_STATUSES.map((s) => [s, counts[s] ?? 0])) as Record<EvaluationStatus, number>;
    return {
      project: project ?? null,
      counts: full,
      depth,
      max_depth: this.options.maxQueueDepth,
      oldest_queued_at: oldest,
      oldest_queued_age_ms: ageMs(oldest),
      by_environment: ENVIRONMENTS.map((environment) => {
        const q = queued.find((row) => row.environment === environment);
        return {
          environment,
          depth: q?.waiting ?? 0,
          oldest_queued_at: q?.oldest_queued_at ?? null,
          oldest_queued_age_ms: ageMs(q?.oldest_queued_at ?? null),
          live_workers: alive.filter((w) => w.environments.includes(environment)).length,
        };
      }),
      unserved_environments: unservedEnvironments(alive),
    };
  }

  async workers(): Promise<WorkerList> {
    const { storage } = this.deps;
    const now = Date.now();
    const [workers, held] = await Promise.all([storage.workers.list(), storage.evaluations.findByStatus(['provisioning', 'running'], { limit: 10_000 })]);
    // Counted from the evaluations themselves: heartbeats carry a count that is up to one beat old.
    const running = new Map<string, number>();
    for (const e of held) if (e.worker) running.set(e.worker, (running.get(e.worker) ?? 0) + 1);
    const alive = new Set(liveWorkers(workers, this.options.livenessWindowMs, now).map((w) => w.id));
    return {
      workers: workers.map((w) => ({ ...w, running: running.get(w.id) ?? 0, alive: alive.has(w.id) })),
      liveness_window_ms: this.options.livenessWindowMs,
    };
  }

  /** Throughput and latency: every project's for admins, the caller's project's for anyone else. */
  async stats(minutes: number, bucketS: number, actor: Actor = ANONYMOUS_ACTOR): Promise<StatsResponse> {
    authorize(actor, 'system:read');
    const project = platformWide(actor) ? undefined : actor.project;
    const since = new Date(Date.now() - minutes * 60_000).toISOString();
    const [buckets, samples] = await Promise.all([
      this.deps.storage.stats.outcomeBuckets(since, bucketS, project),
      // One more than used tells whether the window held more than the sample.
      this.deps.storage.stats.durationSamples(since, LATENCY_SAMPLE + 1, project),
    ]);
    const history = this.deps.loadHistory;
    return {
      project: project ?? null,
      buckets,
      bucket_s: bucketS,
      latency: latencyStats(samples.slice(0, LATENCY_SAMPLE), samples.length > LATENCY_SAMPLE),
      load: { interval_s: (history?.options.intervalMs ?? 0) / 1000, samples: history?.since(Date.parse(since), project) ?? [] },
    };
  }

  async config(): Promise<ConfigResponse> {
    const sandboxes = await Promise.all(
      Object.entries(this.deps.sandboxes).map(async ([name, backend]) => {
        const health = await sandboxHealth(backend);
        return { name, available: health.ok, detail: health.detail };
      }),
    );
    return { limits: LIMIT_BOUNDS, environments: [...ENVIRONMENTS], sandboxes, exit_code_guide: [...EXIT_CODE_GUIDE], request_bounds: { ...REQUEST_BOUNDS } };
  }

  /** `ok`, `degraded` (a sandbox backend is missing) or `unavailable` (storage, queue or bus is down). */
  async readiness(): Promise<{ ready: boolean; report: HealthResponse }> {
    const { storage, queue, bus, sandboxes } = this.deps;
    const [storageCheck, queueCheck, busCheck] = await Promise.all([probe(() => storage.ping()), probe(() => queue.ping()), probe(() => bus.ping())]);
    const checks: HealthResponse['checks'] = { storage: storageCheck, queue: queueCheck, bus: busCheck };
    const backends = Object.entries(sandboxes);
    const healths = await Promise.all(backends.map(([, backend]) => sandboxHealth(backend)));
    backends.forEach(([name], i) => {
      const health = healths[i]!;
      checks[`sandbox:${name}`] = { ok: health.ok, ...(health.ok ? {} : { detail: health.detail }) };
    });
    const ready = storageCheck.ok && queueCheck.ok && busCheck.ok;
    const allOk = Object.values(checks).every((c) => c.ok);
    return { ready, report: { status: ready ? (allOk ? 'ok' : 'degraded') : 'unavailable', checks } };
  }
}
