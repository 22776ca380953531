/**
 * The scale-out queue: BullMQ on Redis, one BullMQ queue per environment (`evaluations-<env>`),
 * so a worker host only ever receives jobs for the environments it has.
 *
 * - Idempotent enqueue: the BullMQ job id is the evaluation id; adding a job whose id exists is a
 *   no-op. Jobs are removed as soon as they complete or finally fail, so an evaluation re-queued
 *   later by recovery gets a fresh job.
 * - Retries: a rejecting handler (an infrastructure failure) is retried by BullMQ with exponential
 *   backoff. On the last attempt the consumer calls onExhausted itself and completes the job, so
 *   onExhausted runs exactly once, while the job is still held.
 * - A worker killed mid-job: its lock (LOCK_DURATION_MS) is no longer renewed, and another
 *   worker's stalled check (every STALLED_INTERVAL_MS) puts the job back in the wait list, so it
 *   is delivered again within about LOCK_DURATION_MS + STALLED_INTERVAL_MS (30 s). After
 *   maxAttempts stalls BullMQ fails the job on its own; the evaluation is then left to the
 *   platform's reaper (it is held by a dead worker).
 * - Redis down: producer calls fail fast (no offline queue; bounded by timeoutMs, 5 s by default) with
 *   `queue_unavailable` (HTTP 503). Workers keep retrying the connection forever and resume
 *   by themselves when Redis is back.
 * - Connections: every environment's producer shares one Redis connection (producer commands never
 *   block, so one connection serves them all; a deployment with many environments and API replicas
 *   would otherwise hold environments × replicas connections). Each consumer's BullMQ workers keep
 *   their own: a worker's fetch blocks its connection.
 */
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { unavailable } from '../domain/errors.js';
import { ENVIRONMENTS, type Environment } from '../domain/evaluation.js';
import { DEFAULT_RETRY_POLICY, type ConsumeOptions, type JobQueue, type QueueConsumer, type QueueJob, type QueueRetryPolicy } from '../ports/queue.js';

export interface BullmqQueueOptions {
  /** redis:// URL. */
  connection: string;
  /** Key prefix: isolates deployments (and test runs) sharing one Redis. */
  prefix?: string;
  retry?: QueueRetryPolicy;
  /** How long a worker's job lock lasts without renewal; with stalledIntervalMs it bounds re-delivery after a crash. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Upper bound on any producer call, including waiting for the first connection. */
  timeoutMs?: number;
  /** Reported errors of connections and workers (default: process warning). */
  onError?: (err: unknown) => void;
}

const JOB_NAME = 'evaluate';
const LOCK_DURATION_MS = 15_000;
const STALLED_INTERVAL_MS = 15_000;
const DEFAULT_TIMEOUT_MS = 5_000;
/** BullMQ's largest priority (2^21 - 1). */
const MAX_PRIORITY = 2_097_151;
/** Job states that count as "waiting to be taken". */
const WAITING_STATES = ['waiting', 'delayed', 'prioritized'] as const;

export function createBullmqQueue(options: BullmqQueueOptions): JobQueue {
  return new BullmqQueue(options);
}

function queueName(environment: string): string {
  return `evaluations-${environment}`;
}

class BullmqQueue implements JobQueue {
  private readonly producers = new Map<string, Queue>();
  /** The one connection under every producer; closed by close() after them (BullMQ leaves a shared connection open). */
  private readonly producerConnection: Redis;
  private readonly consumers = new Set<BullmqConsumer>();
  private readonly retry: QueueRetryPolicy;
  private readonly prefix: string;
  private readonly onError: (err: unknown) => void;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(private readonly options: BullmqQueueOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.prefix = options.prefix ?? 'crucible';
    this.onError = options.onError ?? ((err) => process.emitWarning(`bullmq queue: ${String(err)}`));
    this.producerConnection = new Redis(options.connection, {
      // Fail fast while disconnected instead of buffering commands (the API answers 503).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.timeoutMs,
      connectionName: `crucible-producer-${this.prefix}`,
    });
    // The producers' queues report its errors too; this keeps an error before any queue listens from being unhandled.
    this.producerConnection.on('error', () => undefined);
    for (const environment of ENVIRONMENTS) this.producer(environment);
  }

  /** The producer-side BullMQ queue of an environment, created on first use. */
  private producer(environment: string): Queue {
    let queue = this.producers.get(environment);
    if (!queue) {
      queue = new Queue(queueName(environment), { prefix: this.prefix, connection: this.producerConnection });
      queue.on('error', this.onError);
      this.producers.set(environment, queue);
    }
    return queue;
  }

  enqueue(jobs: QueueJob[]): Promise<void> {
    return this.redis('enqueue', async () => {
      const byEnvironment = new Map<string, QueueJob[]>();
      for (const job of jobs) byEnvironment.set(job.environment, [...(byEnvironment.get(job.environment) ?? []), job]);
      await Promise.all(
        [...byEnvironment].map(([environment, group]) =>
          this.producer(environment).addBulk(
            group.map((job) => ({
              name: JOB_NAME,
              data: job,
              opts: {
                jobId: job.evaluationId,
                // Fair share across projects (see QueueJob.rank). BullMQ takes jobs without a priority
                // first (its plain wait list, which KEDA's scaler counts), then lower priorities, FIFO
                // among equals: rank 1 (the project had nothing waiting) goes without one, rank n as n - 1.
                ...((job.rank ?? 1) > 1 ? { priority: Math.min(MAX_PRIORITY, job.rank! - 1) } : {}),
                attempts: this.retry.maxAttempts,
                backoff: { type: 'exponential', delay: this.retry.backoffMs },
                removeOnComplete: true,
                removeOnFail: true,
              },
            })),
          ),
        ),
      );
    });
  }

  consume(options: ConsumeOptions): QueueConsumer {
    if (this.closed) throw new Error('queue is closed');
    if (!(options.concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    for (const environment of options.environments) this.producer(environment); // known for remove/depth
    const consumer = new BullmqConsumer(this.options, this.prefix, this.retry, options, this.onError, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  remove(evaluationId: string): Promise<boolean> {
    return this.redis('remove', async () => {
      for (const queue of this.producers.values()) {
        const job = await queue.getJob(evaluationId);
        if (!job) continue;
        const state = await job.getState();
        if (!(WAITING_STATES as readonly string[]).includes(state)) return false;
        // 0 when a worker locked it in the meantime.
        return (await queue.remove(evaluationId)) === 1;
      }
      return false;
    });
  }

  depth(): Promise<number> {
    return this.redis('depth', async () => {
      const counts = await Promise.all([...this.producers.values()].map((q) => q.getJobCountByTypes(...WAITING_STATES)));
      return counts.reduce((a, b) => a + b, 0);
    });
  }

  ping(): Promise<void> {
    return this.redis('ping', async () => {
      // A count is one cheap round trip through BullMQ's own client (no extra connection).
      await this.producer(ENVIRONMENTS[0]).getJobCountByTypes('waiting');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.close()));
    await Promise.all([...this.producers.values()].map((q) => q.close().catch(this.onError)));
    await this.producerConnection.quit().catch(() => this.producerConnection.disconnect());
  }

  /** Runs a producer call with a deadline; any Redis failure becomes queue_unavailable (503). */
  private async redis<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('queue is closed');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), deadline]);
    } catch (err) {
      const e = unavailable('queue_unavailable', `queue ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
      (e as { cause?: unknown }).cause = err;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Bounds handler runs across this consumer's per-environment workers to `concurrency`; waiters are served in arrival order. */
class Slots {
  private freeSlots: number;
  private readonly waiters: Array<() => void> = [];
  constructor(size: number) {
    this.freeSlots = size;
  }
  get free(): number {
    return this.freeSlots;
  }
  async acquire(): Promise<void> {
    if (this.freeSlots > 0) {
      this.freeSlots--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.freeSlots++;
  }
}

/**
 * Takes jobs of several environments with one concurrency bound: one BullMQ worker per
 * environment queue, all sharing `concurrency` slots.
 *
 * - Fairness: a fetched job waits for a slot in arrival order, so environments with work take
 *   turns; a busy environment cannot starve another.
 * - Prefetch is kept small: a job waiting for a slot is held by this worker (locked), out of
 *   reach of idle workers. Each BullMQ worker may fetch only as many jobs as it has in hand plus
 *   its share of the free slots (at least one), so with every slot busy a worker holds at most one
 *   waiting job per environment that has none running — the one that runs next.
 */
class BullmqConsumer implements QueueConsumer {
  private readonly workers: Worker[];
  private closing: Promise<void> | null = null;

  constructor(
    queueOptions: BullmqQueueOptions,
    prefix: string,
    retry: QueueRetryPolicy,
    private readonly options: ConsumeOptions,
    onError: (err: unknown) => void,
    private readonly onClosed: () => void,
  ) {
    const slots = new Slots(options.concurrency);
    const inHand = new Map<Worker, number>();
    // Each environment's worker may fetch what it has in hand plus the free slots. Not a share of
    // them: BullMQ's loop re-reads its concurrency only after a job of its own ends, so a worker
    // given one slot of two would run one long job at a time while the other slot stays idle. A
    // job fetched when another environment took the last slot waits for one (bounded by the slots).
    const share = (free: number) => free;
    const rebalance = () => {
      for (const [worker, held] of inHand) worker.concurrency = Math.max(1, held + share(slots.free));
    };
    const processFor = (worker: () => Worker) => async (job: Job<QueueJob & { deferrals?: number }>, token?: string) => {
      // attemptsStarted counts deliveries, including ones whose worker died (stalled) and deferrals.
      const deferrals = job.data.deferrals ?? 0;
      const attempt = Math.max((job.attemptsStarted ?? 0) - deferrals, job.attemptsMade + 1);
      const self = worker();
      inHand.set(self, (inHand.get(self) ?? 0) + 1);
      await slots.acquire();
      rebalance();
      try {
        const { deferrals: _counted, ...data } = job.data;
        void _counted;
        const deferral = await options.handler(data, attempt);
        if (deferral) {
          // Handed back without using up an attempt (BullMQ does not count a DelayedError as a failure).
          await job.updateData({ ...job.data, deferrals: deferrals + 1 });
          await job.moveToDelayed(Date.now() + deferral.deferMs, token);
          throw new DelayedError();
        }
      } catch (err) {
        if (err instanceof DelayedError) throw err;
        if (attempt < retry.maxAttempts) throw err; // BullMQ retries after its backoff
        await options.onExhausted(job.data, err instanceof Error ? err : new Error(String(err)));
      } finally {
        inHand.set(self, (inHand.get(self) ?? 1) - 1);
        slots.release();
        rebalance();
      }
    };
    this.workers = options.environments.map((environment: Environment) => {
      const worker: Worker<QueueJob> = new Worker<QueueJob>(
        queueName(environment),
        processFor(() => worker),
        {
          prefix,
          concurrency: Math.max(1, share(options.concurrency)),
          autorun: false,
          lockDuration: queueOptions.lockDurationMs ?? LOCK_DURATION_MS,
          stalledInterval: queueOptions.stalledIntervalMs ?? STALLED_INTERVAL_MS,
          maxStalledCount: retry.maxAttempts,
          // Idle workers wake on the queue's marker key at once; this only bounds close().
          drainDelay: 5,
          removeOnComplete: { count: 0 },
          removeOnFail: { count: 0 },
          connection: {
            url: queueOptions.connection,
            // Workers wait out Redis outages instead of failing commands.
            maxRetriesPerRequest: null,
            connectionName: `crucible-worker-${prefix}-${options.workerId}`,
          },
        },
      );
      worker.on('error', onError);
      inHand.set(worker, 0);
      return worker;
    });
    // Every environment's worker starts fetching at once, when all are connected: one that ran
    // while another was still connecting would take a burst of its own jobs ahead of older ones
    // of the other environment. A failed connection does not hold the others back (run() waits
    // out Redis outages itself).
    const start = () => {
      if (this.closing) return;
      for (const worker of this.workers) worker.run().catch(onError);
    };
    Promise.all(this.workers.map((w) => w.waitUntilReady())).then(start, (err: unknown) => {
      onError(err);
      start();
    });
  }

  close(): Promise<void> {
    // Worker.close() stops fetching and waits for the jobs in hand.
    this.closing ??= Promise.all(this.workers.map((w) => w.close())).then(() => this.onClosed());
    return this.closing;
  }
}
