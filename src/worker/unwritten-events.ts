/**
 * Live events whose write to the event log failed (a database outage, a full disk), kept in order
 * and written ahead of the next batch, or with the verdict at the end: a stream replayed after the
 * outage has no gap. Bounded, because an outage can outlast any buffer: beyond the bound further
 * output events are dropped from the log (the evaluation's final stdout and stderr, stored with the
 * verdict, stay complete) and counted.
 */
import type { NewEvaluationEvent } from '../domain/events.js';

/** A metrics sample costs about this much memory; output costs its length. */
const SAMPLE_CHARS = 200;

function sizeOf(event: NewEvaluationEvent): number {
  return event.type === 'stdout' || event.type === 'stderr' ? event.data.text.length : SAMPLE_CHARS;
}

export class UnwrittenEvents {
  private events: NewEvaluationEvent[] = [];
  private chars = 0;
  /** Events dropped because the buffer was full. */
  dropped = 0;

  constructor(private readonly maxChars: number) {}

  get length(): number {
    return this.events.length;
  }

  /** Keeps events that could not be written, in order, as far as the bound allows. */
  keep(events: NewEvaluationEvent[]): void {
    for (const event of events) {
      const size = sizeOf(event);
      if (this.chars + size > this.maxChars) {
        this.dropped++;
        continue;
      }
      this.events.push(event);
      this.chars += size;
    }
  }

  /** Everything kept so far, oldest first; the buffer is empty afterwards. */
  take(): NewEvaluationEvent[] {
    const taken = this.events;
    this.events = [];
    this.chars = 0;
    return taken;
  }
}
