/**
 * Publishes persisted events to the live bus. Always called *after* storage accepted them, so a
 * subscriber never sees an event that is not in the log (and can always recover a missed one from
 * the log). Publishing is best effort: a bus outage must not fail the evaluation, because the log
 * already has the truth.
 */
import type { Evaluation } from '../domain/evaluation.js';
import type { EvaluationEvent, StatusChange } from '../domain/events.js';
import { channels, type EventBus } from '../events/types.js';

export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
}

export class EventPublisher {
  constructor(
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  async publish(evaluation: Pick<Evaluation, 'id' | 'tags'>, events: EvaluationEvent[]): Promise<void> {
    if (events.length === 0) return;
    const tasks: Promise<void>[] = [];
    for (const event of events) {
      tasks.push(this.bus.publish(channels.evaluation(evaluation.id), JSON.stringify(event)));
      if (event.type === 'status') {
        const change: StatusChange = {
          id: evaluation.id,
          status: event.data.status,
          reason: event.data.reason ?? null,
          tags: evaluation.tags,
          at: event.at,
        };
        tasks.push(this.bus.publish(channels.statusFeed, JSON.stringify(change)));
      }
    }
    const results = await Promise.allSettled(tasks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) this.log.warn({ err: String(failed.reason), evaluation: evaluation.id }, 'live event publish failed; clients will catch up from the log');
  }
}
