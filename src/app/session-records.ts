/**
 * Writing a session's record: appending to its ordered event log (and waking its followers), and
 * ending it. The host holding a session writes these; when the host is gone (a dead worker, a
 * start that never reached it) the API side ends the session with the same records.
 */
import { channels, type EventBus } from '../ports/bus.js';
import type { Logger } from '../ports/logger.js';
import type { SessionStore } from '../ports/storage.js';
import type { NewSessionEvent, SessionEndReason } from '../domain/session.js';

export interface SessionRecordDeps {
  store: SessionStore;
  bus: EventBus;
  log: Logger;
}

/** Appends one event to the session's log and wakes its followers; `activity`: an exec or file operation (moves last_activity_at). */
export async function recordSessionEvent(deps: SessionRecordDeps, id: string, event: NewSessionEvent, opts: { activity?: boolean } = {}): Promise<void> {
  const stored = await deps.store.append(id, event, opts);
  await deps.bus
    .publish(channels.session(id), String(stored.seq))
    .catch((err: unknown) => deps.log.warn({ err: String(err), session: id }, 'session event notification failed'));
}

/** Ends a session's record with a reason, once: a session already ended keeps its first reason. */
export async function markSessionEnded(deps: SessionRecordDeps, id: string, reason: SessionEndReason, message: string, at: string): Promise<boolean> {
  const changed = await deps.store.update(id, { status: 'ended', ended_reason: reason, message, ended_at: at });
  if (changed) await recordSessionEvent(deps, id, { type: 'status', at, data: { status: 'ended', ended_reason: reason, message } });
  return changed;
}
