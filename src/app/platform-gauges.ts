/**
 * The gauges an API process exports at scrape time: waiting evaluations and the oldest one's age
 * per environment, and workers per environment by liveness. Every known environment is always
 * present (with zeros), so "no live worker for python" is a series reading 0, not a missing one
 * an alert would have to guess about. Read from storage, the shared truth of a deployment.
 */
import { liveWorkers } from '../domain/environment-routing.js';
import { ENVIRONMENTS } from '../domain/evaluation.js';
import type { ScrapeSnapshot } from '../ports/metrics.js';
import type { Storage } from '../ports/storage.js';

export function platformGauges(storage: Pick<Storage, 'stats' | 'workers'>, livenessWindowMs: number): () => Promise<ScrapeSnapshot> {
  return async () => {
    const [queued, workers] = await Promise.all([storage.stats.queuedByEnvironment(), storage.workers.list()]);
    const now = Date.now();
    const queue = ENVIRONMENTS.map((environment) => {
      const q = queued.find((row) => row.environment === environment);
      return { environment, waiting: q?.waiting ?? 0, oldestAgeSeconds: q ? Math.max(0, (now - Date.parse(q.oldest_queued_at)) / 1000) : null };
    });
    const alive = new Set(liveWorkers(workers, livenessWindowMs, now));
    const perWorker = workers.map((w) => ({ environments: w.environments, alive: alive.has(w) }));
    const byLiveness = ENVIRONMENTS.flatMap((environment) =>
      [true, false].map((alive) => ({ environment, alive, count: perWorker.filter((w) => w.alive === alive && w.environments.includes(environment)).length })),
    );
    return { queue, workers: byLiveness };
  };
}
