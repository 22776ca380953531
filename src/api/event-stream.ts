/**
 * Streams one evaluation's events to a client, exactly once and in order, from any API instance:
 * the persisted log is the record, the bus only says "something new". A live event that follows
 * the last one sent is forwarded as is; anything else (a gap, a reconnect, a lost bus message)
 * is filled from storage. A slow poll covers a bus that is down. The stream ends after `done`.
 */
import { EvaluationEvent as EventSchema, type EvaluationEvent } from '../domain/events.js';
import { channels, type EventBus } from '../events/types.js';
import type { EvaluationStore } from '../storage/types.js';
import type { SseWriter } from './sse.js';

/**
 * Events read from storage at a time. Output events carry up to 64 KiB each, so a page is at most
 * ~0.5 MiB held per stream while its client reads: many slow clients cannot add up to gigabytes.
 */
const CATCH_UP_PAGE = 8;

export async function streamEvaluationEvents(
  deps: { store: EvaluationStore; bus: EventBus },
  evaluationId: string,
  afterSeq: number,
  sse: SseWriter,
  pollMs = 2000,
): Promise<void> {
  let last = afterSeq;
  let finished = false;
  let catchingUp: Promise<void> | null = null;
  let again = false;

  const emit = (event: EvaluationEvent) => {
    if (event.seq !== last + 1 || finished) return false;
    sse.send({ id: event.seq, event: event.type, data: event });
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
          const page = await deps.store.listEvents(evaluationId, last, CATCH_UP_PAGE);
          for (const event of page) {
            // A client that reads slowly gets the history at its own pace, not all at once into
            // the server's memory; whatever arrives meanwhile is read from storage afterwards.
            if (sse.congested) await sse.drained();
            if (sse.closed) return;
            emit(event);
          }
          if (page.length < CATCH_UP_PAGE || finished || sse.closed) break;
        }
      } while (again && !finished && !sse.closed);
    })().finally(() => {
      catchingUp = null;
    });
    return catchingUp;
  };

  const subscription = await deps.bus.subscribe(channels.evaluation(evaluationId), (payload) => {
    if (finished || sse.closed) return;
    const parsed = EventSchema.safeParse(safeJson(payload));
    if (!catchingUp && !sse.congested && parsed.success && emit(parsed.data)) {
      if (finished) sse.end();
      return;
    }
    void catchUp().then(() => finished && sse.end(), () => undefined);
  });
  const poll = setInterval(() => void catchUp().then(() => finished && sse.end(), () => undefined), pollMs);
  try {
    await catchUp();
    if (finished) sse.end();
    await sse.done;
  } finally {
    clearInterval(poll);
    await subscription.unsubscribe();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
