/**
 * The global status feed (dashboards, history views): every status change of every evaluation,
 * live from the bus and, for a client that reconnects, replayed from the event log first, so a
 * dashboard that lost its connection misses no change.
 *
 * Order is the log's feed order (time, evaluation id, seq). Times come from the clocks of the
 * processes that made the changes, so a resume replays a short overlap before its position: a
 * change written by a host whose clock lags is not skipped, at the price of a few changes a
 * client may see twice (applying a status change twice is harmless).
 */
import { ANONYMOUS_ACTOR, type Actor } from '../domain/access.js';
import { feedPositionOf, formatFeedPosition, isAfter, type FeedPosition, type StatusChange } from '../domain/events.js';
import { channels, type EventBus, type Subscription } from '../ports/bus.js';
import type { Storage } from '../ports/storage.js';
import { authorize, seesProject } from './access.js';

/** Where followed changes go (an SSE connection). `id` is the position to resume after. */
export interface StatusSink {
  send(change: StatusChange, id: string): void;
  /** Sent once the replay (if any) is over and live changes follow; `complete` is false when the replay was cut at its limit. */
  ready(complete: boolean): void;
  readonly closed: boolean;
  readonly done: Promise<void>;
}

export interface StatusFeedOptions {
  /** Replayed changes read per query. */
  pageSize: number;
  /** A resume replays at most this many changes; beyond, the client is told to re-read the list. */
  replayLimit: number;
  /** How far before its position a resume starts (clock skew between hosts). */
  overlapMs: number;
}

const DEFAULTS: StatusFeedOptions = { pageSize: 500, replayLimit: 10_000, overlapMs: 2_000 };

function parse(payload: string): StatusChange | null {
  try {
    return JSON.parse(payload) as StatusChange;
  } catch {
    return null; // a malformed message on the bus is not worth a client's stream
  }
}

export class StatusFeed {
  private readonly options: StatusFeedOptions;

  constructor(
    private readonly deps: { storage: Pick<Storage, 'events'>; bus: EventBus },
    options: Partial<StatusFeedOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Live changes only, as they are published. */
  subscribe(onChange: (change: StatusChange) => void): Promise<Subscription> {
    return this.deps.bus.subscribe(channels.statusFeed, (payload) => {
      const change = parse(payload);
      if (change) onChange(change);
    });
  }

  /**
   * Replays the changes after `after` (when given), then sends live ones until the sink closes.
   * Only changes of projects the actor sees are sent (a change without a project only to admins).
   */
  async follow(after: FeedPosition | null, sink: StatusSink, actor: Actor = ANONYMOUS_ACTOR): Promise<void> {
    authorize(actor, 'evaluations:read');
    const key = (c: StatusChange) => `${c.id}.${c.seq}`;
    const replayed = new Set<string>();
    let buffered: StatusChange[] | null = after ? [] : null;
    const visible = (change: StatusChange) => actor.role === 'admin' || (change.project !== undefined && seesProject(actor, change.project));
    const send = (change: StatusChange) => {
      if (visible(change)) sink.send(change, formatFeedPosition(feedPositionOf(change)));
    };
    // Subscribed before the replay reads, so a change made meanwhile is either read or buffered.
    const subscription = await this.subscribe((change) => {
      if (sink.closed) return;
      if (buffered) buffered.push(change);
      else if (!replayed.has(key(change))) send(change);
    });
    try {
      let complete = true;
      if (after) {
        complete = await this.replay(after, sink, (change) => {
          replayed.add(key(change));
          send(change);
        });
        const live = buffered ?? [];
        buffered = null;
        for (const change of live) if (!replayed.has(key(change))) send(change);
      }
      if (!sink.closed) sink.ready(complete);
      await sink.done;
    } finally {
      await subscription.unsubscribe();
    }
  }

  /** Sends the logged changes after `after`; false when the replay limit cut it short. */
  private async replay(after: FeedPosition, sink: StatusSink, send: (change: StatusChange) => void): Promise<boolean> {
    const { pageSize, replayLimit, overlapMs } = this.options;
    let position: FeedPosition = { atMs: Math.max(0, after.atMs - overlapMs), evaluationId: '', seq: 0 };
    let sent = 0;
    for (;;) {
      const page = await this.deps.storage.events.statusChangesAfter(position, pageSize);
      for (const change of page) {
        if (sink.closed) return true;
        const at = feedPositionOf(change);
        // Inside the overlap, only what the client cannot have had: later than its position.
        if (isAfter(at, after) || at.atMs < after.atMs) {
          if (sent >= replayLimit) return false;
          send(change);
          sent++;
        }
        position = at;
      }
      if (page.length < pageSize) return true;
    }
  }
}
