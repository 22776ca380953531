/**
 * Persist, then publish: every change to an evaluation goes to storage first and, only once
 * storage accepted it, to the live bus. A subscriber therefore never sees an event that is not in
 * the log and can always recover a missed one from it. Publishing is best effort: a bus outage
 * must not fail the evaluation, because the log already has the truth.
 *
 * Every use case that moves an evaluation (submit, cancel, the reaper, the worker's runs) goes
 * through this one class, so the rule lives in one place.
 */
import type { Evaluation, EvaluationStatus, EvaluationSummary } from '../domain/evaluation.js';
import type { EvaluationEvent, NewEvaluationEvent, StatusChange } from '../domain/events.js';
import type { RunResult } from '../domain/run-result.js';
import { channels, type EventBus } from '../ports/bus.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import type { Storage, TransitionOptions, TransitionPatch, TransitionResult } from '../ports/storage.js';
import { observeTransition } from './evaluation-metrics.js';
import { finalRecord } from './verdicts.js';

export type TerminalGuard = Pick<TransitionOptions, 'expectFrom' | 'expectWorker' | 'precedingEvents'>;

/** A program start not yet stored: when it started, and the claimed evaluation its status event describes. */
export interface UnrecordedStart {
  startedAt: string;
  claimed: Pick<EvaluationSummary, 'reason' | 'message' | 'worker'>;
}

export class EvaluationLifecycle {
  constructor(private readonly deps: { storage: Pick<Storage, 'evaluations' | 'events'>; bus: EventBus; log: Logger; metrics?: Metrics }) {}

  /** Moves the evaluation (compare-and-set, see EvaluationRepository.transition), then publishes what was written. */
  async transition(id: string, to: EvaluationStatus, patch?: TransitionPatch, options?: TransitionOptions): Promise<TransitionResult | null> {
    const moved = await this.deps.storage.evaluations.transition(id, to, patch, options);
    if (!moved) return null;
    if (this.deps.metrics) observeTransition(this.deps.metrics, moved.evaluation);
    await this.publish(moved.evaluation, moved.events);
    return moved;
  }

  /**
   * Records `result` as the evaluation's verdict: its final status, the `done` event that closes
   * the log (and any output still pending, before it), in one transaction; then publishes them.
   */
  finish(id: string, result: RunResult, guard: TerminalGuard, unrecordedStart?: UnrecordedStart): Promise<TransitionResult | null> {
    const { status, patch, done } = finalRecord(result);
    if (!unrecordedStart) return this.transition(id, status, patch, { ...guard, extraEvents: [done] });
    return this.finishWithStart(id, status, patch, done, guard, unrecordedStart);
  }

  /**
   * A program that ended before its `running` transition was written: the start is recorded in
   * the verdict's transaction (the same `running` status event, ahead of the output and the
   * terminal status), saving a transaction per short evaluation; the log reads as if written apart.
   */
  private async finishWithStart(
    id: string,
    status: EvaluationStatus,
    patch: TransitionPatch,
    done: NewEvaluationEvent,
    guard: TerminalGuard,
    start: UnrecordedStart,
  ): Promise<TransitionResult | null> {
    const running: NewEvaluationEvent = {
      type: 'status',
      at: start.startedAt,
      data: { status: 'running', reason: start.claimed.reason, message: start.claimed.message, worker: start.claimed.worker },
    };
    const moved = await this.deps.storage.evaluations.transition(
      id,
      status,
      { ...patch, started_at: start.startedAt },
      { ...guard, through: 'running', precedingEvents: [running, ...(guard.precedingEvents ?? [])], extraEvents: [done] },
    );
    if (!moved) return null;
    if (this.deps.metrics) {
      observeTransition(this.deps.metrics, { ...moved.evaluation, status: 'running' });
      observeTransition(this.deps.metrics, moved.evaluation);
    }
    await this.publish(moved.evaluation, moved.events);
    return moved;
  }

  /** Appends live events (output, samples) to the log, then publishes the ones it accepted. */
  async append(evaluation: Pick<Evaluation, 'id' | 'tags'>, events: NewEvaluationEvent[]): Promise<EvaluationEvent[]> {
    const written = await this.deps.storage.events.append(evaluation.id, events);
    await this.publish(evaluation, written);
    return written;
  }

  /** Publishes events that are already persisted (e.g. those of a creation, once the job is enqueued). */
  async publish(evaluation: Pick<Evaluation, 'id' | 'tags'> & { project?: string }, events: EvaluationEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { bus, log } = this.deps;
    const tasks: Promise<void>[] = [];
    for (const event of events) {
      tasks.push(bus.publish(channels.evaluation(evaluation.id), JSON.stringify(event)));
      if (event.type === 'status') {
        const change: StatusChange = {
          id: evaluation.id,
          seq: event.seq,
          status: event.data.status,
          reason: event.data.reason ?? null,
          tags: evaluation.tags,
          at: event.at,
          ...(evaluation.project === undefined ? {} : { project: evaluation.project }),
        };
        tasks.push(bus.publish(channels.statusFeed, JSON.stringify(change)));
      }
    }
    const results = await Promise.allSettled(tasks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) log.warn({ err: String(failed.reason), evaluation_id: evaluation.id }, 'live event publish failed; clients will catch up from the log');
  }
}
