/**
 * The embedded queue: durable jobs in the SQLite database (sqlite-jobs.ts), delivered to
 * in-process consumers.
 *
 * Latency: enqueue wakes every consumer of the same database file in this process at once (an
 * EventEmitter, no polling delay). A slow poll remains as a fallback for jobs whose retry backoff
 * has elapsed and for jobs written by another connection.
 *
 * Restart: on first use, jobs still held by a previous process of this data directory are made
 * deliverable again (see SqliteJobs.releaseOrphans). Delivering such a job again is safe: the
 * worker's compare-and-set to `provisioning` rejects an evaluation that is not `queued`, and the
 * platform's own recovery re-queues evaluations stuck in provisioning/running, calling enqueue,
 * which is a no-op while the job exists.
 */
import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import { SqliteJobs, type ClaimedJob, type JobsDatabase } from './sqlite-jobs.js';
import { DEFAULT_RETRY_POLICY, type ConsumeOptions, type JobQueue, type QueueConsumer, type QueueJob, type QueueRetryPolicy } from '../ports/queue.js';

export interface EmbeddedQueueOptions {
  retry?: QueueRetryPolicy;
  /** Fallback poll period. */
  pollIntervalMs?: number;
  /** Where failures of the queue's own bookkeeping are reported (default: process warning). */
  onError?: (err: unknown) => void;
}

/**
 * The SQLite connection the jobs live in, opened by the composition root (shared with the store,
 * so a submission and its job go through one handle), and its file name (the wake-up key).
 * `ownsDb`: the queue closes the connection when it closes.
 */
export interface EmbeddedQueueSource {
  db: Kysely<JobsDatabase>;
  filename: string;
  ownsDb?: boolean;
}

/** How long a finished job's row waits to be deleted together with others (see EmbeddedQueue.complete). */
const COMPLETION_BATCH_MS = 100;

/** Wakeups per database file, shared by every queue instance of this process on that file. */
const wakeups = new EventEmitter();
wakeups.setMaxListeners(0);

export function createEmbeddedQueue(source: EmbeddedQueueSource, options: EmbeddedQueueOptions = {}): JobQueue {
  return new EmbeddedQueue(source, options);
}

class EmbeddedQueue implements JobQueue {
  private readonly jobs: SqliteJobs;
  private readonly ownDb: Kysely<JobsDatabase> | null;
  private readonly wakeKey: string;
  private readonly ready: Promise<void>;
  private readonly consumers = new Set<EmbeddedConsumer>();
  readonly retry: QueueRetryPolicy;
  readonly pollIntervalMs: number;
  readonly onError: (err: unknown) => void;
  private closed = false;
  private completed: string[] = [];
  private completionTimer: NodeJS.Timeout | null = null;
  private deleting: Promise<void> = Promise.resolve();

  constructor(source: EmbeddedQueueSource, options: EmbeddedQueueOptions) {
    const { db, filename } = source;
    this.ownDb = source.ownsDb ? db : null;
    const jobs = new SqliteJobs(db);
    this.jobs = jobs;
    // ':memory:' databases are private to their connection.
    this.wakeKey = filename === ':memory:' ? `memory:${Math.random()}` : filename;
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.onError = options.onError ?? ((err) => process.emitWarning(`embedded queue: ${String(err)}`));
    this.ready = (async () => {
      await jobs.ensureSchema();
      await jobs.releaseOrphans();
    })();
    // Reported by the first operation that awaits it; avoid an unhandled rejection meanwhile.
    this.ready.catch(() => {});
  }

  async enqueue(jobs: QueueJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.ready;
    await this.jobs.insert(jobs);
    this.wake();
  }

  consume(options: ConsumeOptions): QueueConsumer {
    if (this.closed) throw new Error('queue is closed');
    if (!(options.concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    const consumer = new EmbeddedConsumer(this, options, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  async remove(evaluationId: string): Promise<boolean> {
    await this.ready;
    return this.jobs.removeWaiting(evaluationId);
  }

  async depth(): Promise<number> {
    await this.ready;
    return this.jobs.depth();
  }

  async ping(): Promise<void> {
    await this.ready;
    await this.jobs.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.close()));
    await this.deleteCompleted();
    await this.ready.catch(() => {});
    if (this.ownDb) await this.ownDb.destroy();
  }

  // --- used by consumers ---

  async claim(environments: ConsumeOptions['environments']): Promise<ClaimedJob | null> {
    await this.ready;
    return this.jobs.claim(environments);
  }

  /**
   * A finished job's row is deleted with the others finished within COMPLETION_BATCH_MS, in one
   * statement, and the consumer does not wait for it. Until then the row stays `active` under this
   * process, so it is never delivered again while the process lives; if the process dies first,
   * the job is delivered again after the restart and the worker's compare-and-set skips it (its
   * evaluation is no longer `queued`).
   */
  complete(evaluationId: string): void {
    this.completed.push(evaluationId);
    this.completionTimer ??= setTimeout(() => void this.deleteCompleted(), COMPLETION_BATCH_MS);
  }

  /** Deletes the finished jobs now (also on close); a failure is reported, the rows stay until the next restart. */
  private deleteCompleted(): Promise<void> {
    if (this.completionTimer) clearTimeout(this.completionTimer);
    this.completionTimer = null;
    const ids = this.completed;
    this.completed = [];
    if (ids.length === 0) return this.deleting;
    this.deleting = this.deleting.then(() => this.jobs.complete(ids)).catch((err: unknown) => this.onError(err));
    return this.deleting;
  }

  /** Puts the job back with a delay and wakes consumers when the delay is over. */
  async retryLater(evaluationId: string, delayMs: number, error: string | null): Promise<void> {
    await this.jobs.retryLater(evaluationId, delayMs, error);
    setTimeout(() => this.wake(), delayMs + 1).unref();
  }

  wake(): void {
    wakeups.emit(this.wakeKey);
  }

  onWake(listener: () => void): () => void {
    wakeups.on(this.wakeKey, listener);
    return () => wakeups.off(this.wakeKey, listener);
  }
}

class EmbeddedConsumer implements QueueConsumer {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopWake: () => void;
  private readonly poll: NodeJS.Timeout;
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly queue: EmbeddedQueue,
    private readonly options: ConsumeOptions,
    private readonly onClosed: () => void,
  ) {
    this.stopWake = queue.onWake(() => this.pump());
    this.poll = setInterval(() => this.pump(), queue.pollIntervalMs);
    this.poll.unref();
    this.pump();
  }

  /** Claims jobs until the concurrency bound is reached or none is left. Never runs twice at once. */
  private pump(): void {
    if (this.closing) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.pumpAgain = false;
        while (!this.closing && this.inFlight.size < this.options.concurrency) {
          const job = await this.queue.claim(this.options.environments);
          if (!job) break;
          const run: Promise<void> = this.handle(job).finally(() => {
            this.inFlight.delete(run);
            this.pump();
          });
          this.inFlight.add(run);
        }
      } while (this.pumpAgain && !this.closing);
    })()
      .catch((err) => this.queue.onError(err))
      .finally(() => {
        this.pumping = null;
        // A job that ended between the loop's last check and here asked for another pump: the
        // loop no longer sees it, so pump now rather than leave the slot idle until the next poll.
        if (this.pumpAgain) this.pump();
      });
  }

  private async handle(claimed: ClaimedJob): Promise<void> {
    const { retry } = this.queue;
    const { attempts, ...job } = claimed;
    try {
      if (attempts > retry.maxAttempts) {
        // Only possible for a job whose process died while handling it, over and over.
        this.queue.complete(job.evaluationId);
        await this.options.onExhausted(job, new Error(`gave up after ${attempts - 1} deliveries whose process exited`));
        return;
      }
      try {
        const deferral = await this.options.handler(job, attempts);
        if (deferral) {
          await this.queue.retryLater(job.evaluationId, deferral.deferMs, null);
          return;
        }
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (attempts >= retry.maxAttempts) {
          this.queue.complete(job.evaluationId);
          await this.options.onExhausted(job, error);
        } else {
          await this.queue.retryLater(job.evaluationId, retry.backoffMs * 2 ** (attempts - 1), error.message);
        }
        return;
      }
      this.queue.complete(job.evaluationId);
    } catch (err) {
      // Bookkeeping or onExhausted failed; the job stays held until this process restarts.
      this.queue.onError(err);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopWake();
      clearInterval(this.poll);
      await this.pumping;
      await Promise.all([...this.inFlight]);
      this.onClosed();
    })();
    return this.closing;
  }
}
