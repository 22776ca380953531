/**
 * A worker: takes jobs from the queue, runs them with the EvaluationRunner, announces itself with
 * heartbeats (so a dead worker's evaluations can be reaped by any API instance) and kills its
 * sandboxes when a cancel request for one of them arrives on the bus.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Environment, SandboxBackendName } from '../domain/evaluation.js';
import type { EvaluationLifecycle } from '../app/evaluation-lifecycle.js';
import type { QuotaService } from '../app/quotas.js';
import type { MemoryReclaimer } from '../ports/memory.js';
import { resultWithoutRun } from '../app/verdicts.js';
import { channels, type EventBus, type Subscription } from '../ports/bus.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics, ScrapeSnapshot } from '../ports/metrics.js';
import type { Deferral, JobQueue, QueueConsumer, QueueJob } from '../ports/queue.js';
import type { SandboxBackends } from '../ports/sandbox.js';
import type { Tracing } from '../ports/tracing.js';
import { NO_TRACING } from '../app/no-tracing.js';
import type { Storage, WorkerInfo } from '../ports/storage.js';
import { EvaluationRunner, WorkerShutdown } from './evaluation-runner.js';

export interface WorkerDeps {
  storage: Storage;
  queue: JobQueue;
  bus: EventBus;
  lifecycle: EvaluationLifecycle;
  sandboxes: SandboxBackends;
  log: Logger;
  metrics?: Metrics;
  tracing?: Tracing;
  /** Per-project running quotas: an evaluation of a project at its limit is handed back to the queue for later. */
  quotas?: Pick<QuotaService, 'startDelayMs'>;
  /** Told when a verdict's large output is dropped (see MemoryReclaimer). */
  memory?: MemoryReclaimer;
}

export interface WorkerOptions {
  concurrency: number;
  environments: Environment[];
  heartbeatMs: number;
  flushIntervalMs?: number;
  /** The id to register under (default: a new one); the process's session host uses the same id. */
  id?: string;
}

export function newWorkerId(): string {
  return `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export class Worker {
  readonly id: string;
  private readonly active = new Map<string, AbortController>();
  private readonly runner: EvaluationRunner;
  private consumer: QueueConsumer | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private cancelSubscription: Subscription | null = null;
  private readonly startedAt = new Date().toISOString();
  private usableSandboxes: SandboxBackendName[] = [];
  private readonly tracing: Tracing;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions,
  ) {
    this.id = options.id ?? newWorkerId();
    this.tracing = deps.tracing ?? NO_TRACING;
    this.runner = new EvaluationRunner({
      tracing: this.tracing,
      evaluations: deps.storage.evaluations,
      lifecycle: deps.lifecycle,
      sandboxes: deps.sandboxes,
      log: deps.log,
      metrics: deps.metrics,
      workerId: this.id,
      flushIntervalMs: options.flushIntervalMs,
      memory: deps.memory,
    });
  }

  /** The environments this worker takes jobs of. */
  get environments(): readonly Environment[] {
    return this.options.environments;
  }

  get running(): number {
    return this.active.size;
  }

  /** This worker's sandboxes for the metrics: running a program now, and warm per backend. */
  gauges(): ScrapeSnapshot {
    const warm = Object.values(this.deps.sandboxes).map((b) => ({ sandbox: b.name, count: b.warmSandboxes?.() ?? 0 }));
    return { sandboxes: { busy: this.active.size, warm } };
  }

  async start(): Promise<void> {
    const { storage, queue, bus, log } = this.deps;
    // Advertise only the backends that work here (GET /api/workers), not every configured one.
    const health = await Promise.all(Object.values(this.deps.sandboxes).map(async (b) => ((await b.health()).ok ? b.name : null)));
    this.usableSandboxes = health.filter((name): name is SandboxBackendName => name !== null);
    // Registered before taking any job, so a reaper never mistakes our first evaluation for an orphan.
    await storage.workers.upsert(this.info());
    this.heartbeat = setInterval(() => {
      storage.workers.upsert(this.info()).catch((err: unknown) => log.warn({ err: String(err), worker: this.id }, 'heartbeat failed'));
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
    this.cancelSubscription = await bus.subscribe(channels.cancel, (id) => this.active.get(id)?.abort());
    this.consumer = queue.consume({
      workerId: this.id,
      concurrency: this.options.concurrency,
      environments: this.options.environments,
      handler: (job, attempt) => this.handle(job, attempt),
      onExhausted: (job, error) => this.giveUp(job, error),
    });
    log.info({ worker: this.id, concurrency: this.options.concurrency, environments: this.options.environments }, 'worker started');
  }

  /** Stops taking jobs and waits for the ones in hand; the registry entry goes last. */
  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.consumer?.close();
    await this.cancelSubscription?.unsubscribe();
    await this.deps.storage.workers.remove(this.id).catch(() => undefined);
  }

  /** Kills every sandbox this worker runs (used on a hard shutdown); their evaluations are re-queued. */
  abortAll(): void {
    for (const abort of this.active.values()) abort.abort(new WorkerShutdown(this.id));
  }

  /** One delivery, in a consumer span that continues the submitter's trace (carried in the job). */
  private async handle(job: QueueJob, attempt: number): Promise<void | Deferral> {
    // A project at its running quota: handed back for later, before any span or claim.
    if (job.project !== undefined && this.deps.quotas) {
      const deferMs = await this.deps.quotas.startDelayMs(job.project);
      if (deferMs > 0) return { deferMs };
    }
    const attributes = {
      'crucible.evaluation.id': job.evaluationId,
      'crucible.sandbox': job.sandbox,
      'crucible.environment': job.environment,
      'crucible.worker.id': this.id,
      'messaging.delivery.attempt': attempt,
    };
    return this.tracing.inSpan('evaluation.process', { kind: 'consumer', parent: job.trace, attributes }, async () => {
      const abort = new AbortController();
      this.active.set(job.evaluationId, abort);
      try {
        await this.runner.run(job, abort);
      } finally {
        this.active.delete(job.evaluationId);
      }
    });
  }

  /** Every attempt failed before the program could start: end the evaluation as a platform error. */
  private giveUp(job: QueueJob, error: Error): Promise<void> {
    const attributes = { 'crucible.evaluation.id': job.evaluationId, 'crucible.sandbox': job.sandbox };
    return this.tracing.inSpan('evaluation.give_up', { kind: 'consumer', parent: job.trace, attributes }, () => this.failAsPlatformError(job, error));
  }

  private async failAsPlatformError(job: QueueJob, error: Error): Promise<void> {
    const { storage, lifecycle, log } = this.deps;
    const evaluation = await storage.evaluations.getSummary(job.evaluationId);
    if (!evaluation) return;
    const result = resultWithoutRun(evaluation, { platformError: `no sandbox could run it after the queue's retries (last error: ${error.message})` });
    await lifecycle.finish(job.evaluationId, result, { expectFrom: ['queued', 'provisioning'] });
    log.error({ evaluation_id: job.evaluationId, err: error.message }, 'evaluation failed: sandbox could not start');
  }

  private info(): WorkerInfo {
    return {
      id: this.id,
      host: os.hostname(),
      pid: process.pid,
      capacity: this.options.concurrency,
      running: this.active.size,
      environments: this.options.environments,
      sandboxes: this.usableSandboxes,
      started_at: this.startedAt,
      last_seen: new Date().toISOString(),
    };
  }
}
