/**
 * Keeps the system honest when processes die. Any number of API instances may run it at once:
 * every move is a compare-and-set, so the only effect of racing reapers is wasted queries.
 *
 * - An evaluation held (provisioning/running) by a worker whose heartbeat is older than the
 *   liveness window is re-queued (its program never finished, so re-running it is the honest
 *   thing) or, after maxAttempts pick-ups, failed with reason `platform_error`.
 * - Open sessions held by such a worker end as `worker_lost` (a killed worker cannot end them).
 * - `queued` evaluations the queue has lost (e.g. Redis restarted without persistence) are
 *   enqueued again; enqueue is idempotent, so this is safe when nothing was lost.
 */
import type { Logger } from '../ports/logger.js';
import type { JobQueue } from '../ports/queue.js';
import type { Storage } from '../ports/storage.js';
import type { EvaluationLifecycle } from './evaluation-lifecycle.js';
import { resultWithoutRun } from './verdicts.js';

export interface ReaperOptions {
  livenessWindowMs: number;
  maxAttempts: number;
  /** Re-enqueue `queued` evaluations at least this old when the queue holds fewer jobs than storage. */
  requeueAfterMs: number;
}

export class Reaper {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  /**
   * Workers in this very process: alive by definition while this reaper runs, even when their
   * heartbeats fail (a full disk, a storage outage) or are late (a busy event loop). Re-queueing
   * their evaluations would run programs twice for nothing.
   */
  private readonly local = new Set<string>();
  /**
   * When this reaper's own storage calls last failed. Right after an outage (the database was down
   * or refused writes), every worker's heartbeat is stale because it could not be written either:
   * for one liveness window after a failure, stale heartbeats are not taken as deaths. Only
   * storage failures count: a queue error during a pass is logged apart (see pass()).
   */
  private lastFailureAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: {
      storage: Storage;
      queue: JobQueue;
      lifecycle: EvaluationLifecycle;
      log: Logger;
      sessions?: { endLost(alive: ReadonlySet<string>): Promise<number> };
    },
    private readonly options: ReaperOptions,
  ) {}

  start(intervalMs: number, localWorkers: string[] = []): void {
    for (const id of localWorkers) this.local.add(id);
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  /** One pass; overlapping calls share the pass in progress. */
  sweep(options: { presumeDead?: (workerId: string) => boolean } = {}): Promise<void> {
    this.sweeping ??= this.pass(options)
      .catch((err: unknown) => {
        this.lastFailureAt = Date.now();
        this.deps.log.warn({ err: String(err) }, 'reaper pass failed; will retry');
      })
      .finally(() => {
        this.sweeping = null;
      });
    return this.sweeping;
  }

  private async pass({ presumeDead }: { presumeDead?: (workerId: string) => boolean }): Promise<void> {
    const { storage, log } = this.deps;
    const now = Date.now();
    const workers = await storage.workers.list();
    // This process's own workers are alive even without a registry row (another reaper may have removed it).
    const alive = new Set<string>(this.local);
    const recovering = now - this.lastFailureAt < this.options.livenessWindowMs;
    for (const w of workers) {
      const fresh = recovering || now - Date.parse(w.last_seen) <= this.options.livenessWindowMs;
      if (this.local.has(w.id) || (fresh && !presumeDead?.(w.id))) alive.add(w.id);
      else {
        await storage.workers.remove(w.id);
        log.warn({ worker: w.id, host: w.host, last_seen: w.last_seen }, 'worker presumed dead: no heartbeat within the liveness window');
      }
    }
    const held = await storage.evaluations.findByStatus(['provisioning', 'running'], { limit: 1000 });
    for (const evaluation of held) {
      if (evaluation.worker && alive.has(evaluation.worker)) continue;
      await this.recover(evaluation.id, evaluation.worker, evaluation.status as 'provisioning' | 'running', evaluation.attempts);
    }
    await this.deps.sessions?.endLost(alive);
    // A queue that does not answer (Redis down or slow) is not a storage outage: it must not put
    // this reaper in recovery, where stale heartbeats are forgiven and dead workers go unnoticed.
    await this.requeueLost(now).catch((err: unknown) => this.deps.log.warn({ err: String(err) }, 'could not compare the queue with storage; will retry'));
  }

  private async recover(id: string, worker: string | null, status: 'provisioning' | 'running', attempts: number): Promise<void> {
    const { storage, queue, lifecycle, log } = this.deps;
    const guard = { expectFrom: [status], ...(worker ? { expectWorker: worker } : {}) };
    const lost = `worker ${worker ?? '(none)'} stopped while the evaluation was ${status}`;
    if (attempts < this.options.maxAttempts) {
      const moved = await lifecycle.transition(
        id,
        'queued',
        { worker: null, message: `Re-queued: ${lost} (attempt ${attempts} of ${this.options.maxAttempts}).` },
        guard,
      );
      if (!moved) return;
      await queue.enqueue([{ evaluationId: id, environment: moved.evaluation.environment, sandbox: moved.evaluation.sandbox }]);
      log.warn({ evaluation_id: id, worker, attempts }, 'evaluation re-queued after its worker was lost');
      return;
    }
    const evaluation = await storage.evaluations.getSummary(id);
    if (!evaluation) return;
    const moved = await lifecycle.finish(id, resultWithoutRun(evaluation, { platformError: `${lost}, and it was already tried ${attempts} times` }), guard);
    if (moved) {
      log.error({ evaluation_id: id, worker, attempts }, 'evaluation failed: its workers kept dying');
    }
  }

  private async requeueLost(now: number): Promise<void> {
    const { storage, queue, log } = this.deps;
    // This runs every pass, at any size, and usually finds nothing lost: compare the queue's depth
    // with a count of queued evaluations that stops one past it (an index read, no rows fetched),
    // and read the evaluations themselves only when storage holds more than the queue.
    const depth = await queue.depth();
    if ((await storage.evaluations.countInStatus(['queued'], depth + 1)) <= depth) return;
    const queued = await storage.evaluations.findByStatus(['queued'], { limit: 500 });
    const old = queued.filter((e) => now - Date.parse(e.created_at) >= this.options.requeueAfterMs);
    if (old.length === 0) return;
    await queue.enqueue(old.map((e) => ({ evaluationId: e.id, environment: e.environment, sandbox: e.sandbox })));
    log.warn({ count: old.length }, 'queued evaluations missing from the queue were enqueued again');
  }
}
