/**
 * Reading an evaluation's events, exactly once and in order, from any process: the persisted log
 * is the record, the bus only says "something new". One implementation of that protocol serves
 * the SSE stream, `?wait`, cancel's wait for the worker, and through the API the CLI and the UI.
 *
 * Following: replay the log after a sequence number, then forward live bus messages whose
 * sequence number is exactly the next one; anything else (a gap, a reconnect, a lost bus message)
 * is filled from storage, and a slow poll covers a bus that is down. It ends after `done`.
 */
import { ANONYMOUS_ACTOR, type Actor } from '../domain/access.js';
import { isTerminal, type EvaluationStatus, type EvaluationSummary } from '../domain/evaluation.js';
import { badRequest, notFound } from '../domain/errors.js';
import { EvaluationEvent as EventSchema, type EvaluationEvent } from '../domain/events.js';
import { channels, type EventBus } from '../ports/bus.js';
import type { Storage } from '../ports/storage.js';
import { authorize, seesProject } from './access.js';

/** Where followed events go: an SSE connection, typically. It may be slow; the reader waits for it. */
export interface EventSink {
  send(event: EvaluationEvent): void;
  readonly closed: boolean;
  /** The consumer is not keeping up: the reader waits for `drained()` before reading more. */
  readonly congested: boolean;
  drained(): Promise<void>;
  /** Resolves when the consumer goes away or end() was called. */
  readonly done: Promise<void>;
  end(): void;
}

/** What a client resuming after `afterSeq` will get. */
export type FollowPlan = { kind: 'stream'; evaluation: EvaluationSummary } | { kind: 'complete' };

/**
 * Events read from storage at a time. Output events carry up to 64 KiB each, so a page is at most
 * ~0.5 MiB held per stream while its client reads: many slow clients cannot add up to gigabytes.
 */
const CATCH_UP_PAGE = 8;

export class EventLogReader {
  constructor(
    private readonly deps: { storage: Pick<Storage, 'evaluations' | 'events'>; bus: EventBus },
    private readonly options: { pollMs: number } = { pollMs: 2000 },
  ) {}

  /**
   * Checks a resume position before a stream opens: 404 for an unknown evaluation, 400 for an
   * event id it does not have, `complete` when the client already has the whole finished log.
   */
  async plan(evaluationId: string, afterSeq: number, actor: Actor = ANONYMOUS_ACTOR): Promise<FollowPlan> {
    authorize(actor, 'evaluations:read');
    // The summary only, not megabytes of output per subscriber.
    const evaluation = await this.deps.storage.evaluations.getSummary(evaluationId);
    // Another project's evaluation does not exist for this caller.
    if (!evaluation || !seesProject(actor, evaluation.project)) throw notFound('evaluation', evaluationId);
    if (afterSeq > 0) {
      // Sequence numbers are contiguous from 1, so `afterSeq` must name an event that exists.
      const [seen, next] = await this.deps.storage.events.after(evaluationId, afterSeq - 1, 2);
      if (seen?.seq !== afterSeq) {
        throw badRequest(
          'invalid_last_event_id',
          `Evaluation ${evaluationId} has no event ${afterSeq}; resume from an id this stream sent (or omit it to replay everything).`,
        );
      }
      if (!next && isTerminal(evaluation.status)) return { kind: 'complete' };
    }
    return { kind: 'stream', evaluation };
  }

  /** Sends every event after `afterSeq` to `sink`, then live ones, until `done` or the sink closes. */
  async follow(evaluationId: string, afterSeq: number, sink: EventSink): Promise<void> {
    const { storage, bus } = this.deps;
    let last = afterSeq;
    let finished = false;
    let catchingUp: Promise<void> | null = null;
    let again = false;

    const emit = (event: EvaluationEvent) => {
      if (event.seq !== last + 1 || finished) return false;
      sink.send(event);
      last = event.seq;
      if (event.type === 'done') finished = true;
      return true;
    };

    const catchUp = (): Promise<void> => {
      if (catchingUp) {
        again = true;
        return catchingUp;
      }
      catchingUp = (async () => {
        do {
          again = false;
          for (;;) {
            const page = await storage.events.after(evaluationId, last, CATCH_UP_PAGE);
            for (const event of page) {
              // A consumer that reads slowly gets the history at its own pace, not all at once into
              // memory; whatever arrives meanwhile is read from storage afterwards.
              if (sink.congested) await sink.drained();
              if (sink.closed) return;
              emit(event);
            }
            if (page.length < CATCH_UP_PAGE || finished || sink.closed) break;
          }
        } while (again && !finished && !sink.closed);
      })().finally(() => {
        catchingUp = null;
      });
      return catchingUp;
    };
    const catchUpThenMaybeEnd = () =>
      void catchUp().then(
        () => finished && sink.end(),
        () => undefined,
      );

    const subscription = await bus.subscribe(channels.evaluation(evaluationId), (payload) => {
      if (finished || sink.closed) return;
      const parsed = EventSchema.safeParse(safeJson(payload));
      if (!catchingUp && !sink.congested && parsed.success && emit(parsed.data)) {
        if (finished) sink.end();
        return;
      }
      catchUpThenMaybeEnd();
    });
    const poll = setInterval(catchUpThenMaybeEnd, this.options.pollMs);
    try {
      await catchUp();
      if (finished) sink.end();
      await sink.done;
    } finally {
      clearInterval(poll);
      await subscription.unsubscribe();
    }
  }

  /**
   * Resolves with `read()` of the evaluation once terminal (`statusOf` says), or as it is when
   * `timeoutMs` runs out or `signal` aborts (the waiting client went away: its subscription and
   * timer are released at once). Wakes on the `done` notification, and polls storage so a bus
   * outage delays it by at most a poll.
   */
  async untilTerminal<T>(
    evaluationId: string,
    timeoutMs: number,
    read: () => Promise<T>,
    statusOf: (value: T) => EvaluationStatus,
    signal?: AbortSignal,
  ): Promise<T> {
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const subscription = await this.deps.bus.subscribe(channels.evaluation(evaluationId), (payload) => {
      if (payload.includes('"type":"done"')) wake();
    });
    const timer = setTimeout(wake, timeoutMs);
    const poll = setInterval(() => {
      this.deps.storage.evaluations.getSummary(evaluationId).then(
        (e) => e && isTerminal(e.status) && wake(),
        () => undefined,
      );
    }, this.options.pollMs);
    signal?.addEventListener('abort', wake, { once: true });
    if (signal?.aborted) wake();
    try {
      // Checked after subscribing, so an ending between the two cannot be missed.
      const current = await read();
      if (isTerminal(statusOf(current)) || timeoutMs <= 0) return current;
      await woken;
      return await read();
    } finally {
      clearTimeout(timer);
      clearInterval(poll);
      signal?.removeEventListener('abort', wake);
      await subscription.unsubscribe();
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
