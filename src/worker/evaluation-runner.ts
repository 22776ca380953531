/**
 * Runs one queued evaluation on this worker: claims it (compare-and-set to `provisioning`), runs
 * it in the sandbox while persisting and publishing its events in order, and records the verdict.
 *
 * Every storage write for one evaluation goes through a single promise chain, so events are
 * persisted in the order they happened even though the sandbox reports them from callbacks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EvaluationSummary } from '../domain/evaluation.js';
import type { EvaluationLifecycle, UnrecordedStart } from '../app/evaluation-lifecycle.js';
import { resultWithoutRun, terminalStatusOf } from '../app/verdicts.js';
import type { NewEvaluationEvent } from '../domain/events.js';
import { storableOutput } from '../domain/output-text.js';
import type { Logger } from '../ports/logger.js';
import type { MemoryReclaimer } from '../ports/memory.js';
import type { Metrics } from '../ports/metrics.js';
import type { QueueJob } from '../ports/queue.js';
import type { RunResult, SandboxBackends } from '../ports/sandbox.js';
import type { EvaluationRepository } from '../ports/storage.js';
import type { TraceSpan, Tracing } from '../ports/tracing.js';
import { NO_TRACING } from '../app/no-tracing.js';
import { OutputBatcher } from './output-batcher.js';
import { UnwrittenEvents } from './unwritten-events.js';

/** Thrown when the platform (not the program) failed before the program started: the queue retries. */
export class InfrastructureError extends Error {}

/**
 * The abort reason of a worker that is shutting down (not a user's cancel): its evaluations go
 * back to the queue, to run again elsewhere, instead of ending as `cancelled`.
 */
export class WorkerShutdown extends Error {
  constructor(workerId: string) {
    super(`worker ${workerId} shut down before the evaluation finished`);
  }
}

export interface RunnerDeps {
  evaluations: Pick<EvaluationRepository, 'get'>;
  lifecycle: EvaluationLifecycle;
  sandboxes: SandboxBackends;
  log: Logger;
  metrics?: Metrics;
  /** Spans for the claim, the sandbox start, the run and the storing of the verdict (none by default). */
  tracing?: Tracing;
  workerId: string;
  /** How often live output is flushed to storage and watchers. */
  flushIntervalMs?: number;
  /** How long a failing write of a verdict is retried (default 120 s). */
  resultWriteRetryMs?: number;
  /** Characters of live output kept per evaluation while its event writes fail (default 8 Mi). */
  maxUnwrittenChars?: number;
  /** Told when a verdict's output is dropped, so a large one's memory goes back (none: kept until the heap grows). */
  memory?: MemoryReclaimer;
}

const DEFAULT_MAX_UNWRITTEN_CHARS = 8 * 1024 * 1024;

export class EvaluationRunner {
  private readonly deps: RunnerDeps & { tracing: Tracing };

  constructor(deps: RunnerDeps) {
    this.deps = { ...deps, tracing: deps.tracing ?? NO_TRACING };
  }

  /**
   * Runs the evaluation. Resolves when it is terminal (or was not ours to run). Rejects with
   * InfrastructureError, after putting the evaluation back to `queued`, when the sandbox could not
   * start, so the queue can retry it elsewhere or later.
   */
  async run(job: QueueJob, abort: AbortController): Promise<void> {
    const { lifecycle, workerId, log, tracing } = this.deps;
    const backend = this.deps.sandboxes[job.sandbox];
    if (!backend) {
      // Left queued (not claimed): the queue hands it to another worker, or after its last attempt
      // it fails with a platform error that names the missing sandbox.
      throw new InfrastructureError(`the ${job.sandbox} sandbox is not available on worker ${workerId}`);
    }
    const claimed = await tracing.inSpan('evaluation.claim', {}, async (span) => {
      const moved = await lifecycle.transition(
        job.evaluationId,
        'provisioning',
        { worker: workerId, increment_attempts: true, started_at: null },
        { expectFrom: ['queued'] },
      );
      span.setAttributes({ 'crucible.claimed': moved !== null });
      return moved;
    });
    if (!claimed) {
      log.debug({ evaluation_id: job.evaluationId }, 'job skipped: evaluation is no longer queued');
      return;
    }
    const evaluation = claimed.evaluation;
    log.debug({ evaluation_id: evaluation.id, worker: workerId, attempts: evaluation.attempts }, 'evaluation claimed');
    if (abort.signal.reason instanceof WorkerShutdown) return this.handBack(evaluation, abort.signal.reason);
    // What to run, read once it is ours (the claim itself does not read the payload back).
    const input = await this.deps.evaluations.get(evaluation.id);
    if (!input) return;
    if (abort.signal.aborted) {
      await this.finish(evaluation, resultWithoutRun(evaluation, { cancelled: true }), []);
      return;
    }

    let chain: Promise<unknown> = Promise.resolve();
    const enqueueWrite = (write: () => Promise<unknown>) => {
      chain = chain.then(write).catch((err: unknown) => log.warn({ err: String(err), evaluation_id: evaluation.id }, 'event write failed'));
    };
    // Output that could not be written during an outage goes out ahead of the next batch (or with the verdict).
    const unwritten = new UnwrittenEvents(this.deps.maxUnwrittenChars ?? DEFAULT_MAX_UNWRITTEN_CHARS);
    const flushIntervalMs = this.deps.flushIntervalMs ?? 100;
    // The `running` transition is written one flush interval after the start (or before the first
    // output batch, whichever comes first); a program that ends sooner has its start recorded with
    // its verdict, in one transaction instead of two. Watchers see it no later than its output.
    let unrecordedStart: UnrecordedStart | null = null;
    let startTimer: NodeJS.Timeout | null = null;
    const takeStart = (): UnrecordedStart | null => {
      if (startTimer) clearTimeout(startTimer);
      startTimer = null;
      const start = unrecordedStart;
      unrecordedStart = null;
      return start;
    };
    // A start whose own write failed (a storage outage) is recorded with the verdict instead: the
    // state machine has no way from provisioning to a verdict that skips running.
    let unstoredStart: UnrecordedStart | null = null;
    const flushStart = () => {
      const start = takeStart();
      if (!start) return;
      enqueueWrite(async () => {
        try {
          await this.recordStart(evaluation.id, start);
        } catch (err) {
          unstoredStart = start;
          throw err;
        }
      });
    };
    const batcher = new OutputBatcher(flushIntervalMs, 64 * 1024, (events) => {
      flushStart();
      enqueueWrite(async () => {
        const batch = [...unwritten.take(), ...events];
        try {
          await lifecycle.append(evaluation, batch);
        } catch (err) {
          unwritten.keep(batch);
          throw err;
        }
      });
    });

    let started = false;
    // From the claim to the program's start, then the program's run: two phases, one sandbox call.
    const starting = tracing.startSpan('sandbox.start', { attributes: { 'crucible.sandbox': job.sandbox } });
    let running: TraceSpan | null = null;
    const claimedAt = performance.now();
    const startSeconds = () => (performance.now() - claimedAt) / 1000;
    const result = await backend.run(
      {
        code: input.code,
        files: input.files,
        entrypoint: input.entrypoint,
        command: input.command,
        stdin: input.stdin_base64 === null ? (input.stdin ?? undefined) : Buffer.from(input.stdin_base64, 'base64'),
        environment: evaluation.environment,
        limits: evaluation.limits,
        runId: evaluation.id,
      },
      {
        signal: abort.signal,
        // Bound to this evaluation's span: a warm sandbox calls back from where it was created.
        onStart: tracing.bind((startedAtMs: number) => {
          started = true;
          starting.end();
          running = tracing.startSpan('sandbox.run', { attributes: { 'crucible.sandbox': job.sandbox } });
          // The sandbox's own start time: a busy worker hears of the start later than it happened.
          const heardLateMs = Math.max(0, Date.now() - startedAtMs);
          this.deps.metrics?.sandboxStart(job.sandbox, true, startSeconds() - heardLateMs / 1000);
          unrecordedStart = { startedAt: new Date(Date.now() - heardLateMs).toISOString(), claimed: evaluation };
          startTimer = setTimeout(flushStart, flushIntervalMs);
        }),
        onStdout: tracing.bind((text: string) => batcher.addStdout(storableOutput(text))),
        onStderr: tracing.bind((text: string) => batcher.addStderr(storableOutput(text))),
        onSample: tracing.bind((sample: Parameters<OutputBatcher['addSample']>[0]) => batcher.addSample(sample)),
      },
    );
    // Nothing more comes from the sandbox: take what is pending now, so that no timer writes
    // output or the start behind the verdict's back while earlier writes finish.
    const leftover = batcher.drain();
    const untakenStart = takeStart();
    await chain;
    const pendingStart = untakenStart ?? unstoredStart;
    endRunSpans(result, started ? running : starting);

    if (result.reason === 'platform_error' && !started && !abort.signal.aborted) {
      // The sandbox never started the program: not the program's fault, so let the queue retry.
      this.deps.metrics?.sandboxStart(job.sandbox, false, startSeconds());
      await lifecycle.transition(evaluation.id, 'queued', { worker: null }, { expectFrom: ['provisioning'], expectWorker: workerId });
      throw new InfrastructureError(result.message);
    }
    if (result.reason === 'cancelled' && abort.signal.reason instanceof WorkerShutdown) {
      // The output is dropped (the re-run prints it again); the start happened and is recorded.
      if (pendingStart) await this.recordStart(evaluation.id, pendingStart);
      return this.handBack(evaluation, abort.signal.reason);
    }
    if (unwritten.dropped > 0) {
      log.warn(
        { evaluation_id: evaluation.id, dropped: unwritten.dropped },
        'live events dropped from the log during a storage outage; the final output is complete',
      );
    }
    try {
      await this.finish(evaluation, result, [...unwritten.take(), ...leftover], pendingStart ?? undefined);
    } finally {
      this.deps.memory?.afterLargeOutput(heldBytes(result));
    }
  }

  private recordStart(id: string, start: UnrecordedStart): Promise<unknown> {
    return this.deps.lifecycle.transition(id, 'running', { started_at: start.startedAt }, { expectFrom: ['provisioning'], expectWorker: this.deps.workerId });
  }

  /** Puts an evaluation this worker will not finish back to `queued`; the queue delivers it again. */
  private async handBack(evaluation: EvaluationSummary, why: WorkerShutdown): Promise<never> {
    const { lifecycle, workerId } = this.deps;
    await lifecycle.transition(
      evaluation.id,
      'queued',
      { worker: null, message: `Re-queued: ${why.message}.` },
      { expectFrom: ['provisioning', 'running'], expectWorker: workerId },
    );
    throw new InfrastructureError(why.message);
  }

  /**
   * Records the last pending output, the verdict and its `done` event in one transaction, in that
   * order, so a watcher has every byte of output before it sees the terminal status.
   */
  private async finish(evaluation: EvaluationSummary, result: RunResult, pending: NewEvaluationEvent[], unrecordedStart?: UnrecordedStart): Promise<void> {
    const { lifecycle, evaluations, workerId, log, tracing } = this.deps;
    const status = terminalStatusOf(result);
    const moved = await tracing.inSpan('evaluation.store', { attributes: { 'crucible.status': status, 'crucible.reason': result.reason } }, () =>
      this.persistently(`record its ${status} result`, evaluation.id, () =>
        lifecycle.finish(evaluation.id, result, { expectFrom: ['provisioning', 'running'], expectWorker: workerId, precedingEvents: pending }, unrecordedStart),
      ),
    );
    if (moved) log.debug({ evaluation_id: evaluation.id, status, reason: result.reason }, 'evaluation finished');
    if (!moved) {
      const current = await evaluations.get(evaluation.id);
      log.warn(
        { evaluation_id: evaluation.id, status: current?.status, wanted: status },
        'result not recorded: the evaluation was already ended elsewhere (cancelled, or reaped after this worker was presumed dead)',
      );
    }
  }

  /**
   * The verdict exists only in this process until it is stored: through a storage outage, keep
   * trying (backing off up to 5 s) rather than drop it, which would leave the evaluation `running`
   * under a worker that is alive, so never reaped. Gives up after resultWriteRetryMs; by then a
   * reaper has re-queued it if this worker's heartbeats failed too (the write then finds it moved).
   */
  private async persistently<T>(what: string, evaluationId: string, write: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + (this.deps.resultWriteRetryMs ?? 120_000);
    for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5_000)) {
      try {
        return await write();
      } catch (err) {
        if (Date.now() + delayMs > deadline) throw err;
        this.deps.log.warn({ err: String(err), evaluation_id: evaluationId, retry_in_ms: delayMs }, `could not ${what}; retrying`);
        await sleep(delayMs);
      }
    }
  }
}

/** Ends the phase the sandbox call finished in, with the verdict's facts (failed if the platform failed). */
function endRunSpans(result: RunResult, span: TraceSpan | null): void {
  if (!span) return;
  span.setAttributes({ 'crucible.status': terminalStatusOf(result), 'crucible.reason': result.reason, 'process.exit.code': result.exit_code });
  if (result.reason === 'platform_error') span.fail(result.message);
  span.end();
}

/** What a result holds of its output (strings count their UTF-16 units, close enough here). */
function heldBytes(result: RunResult): number {
  return result.stdout.length + result.stderr.length + (result.stdout_raw?.byteLength ?? 0) + (result.stderr_raw?.byteLength ?? 0);
}
