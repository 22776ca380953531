import type { SessionStatus } from '../../../src/domain/session';
import { SESSION_STATUS_BADGE } from '../lib/session-view';

export const SESSION_STATUS_LABELS: Record<SessionStatus, string> = { starting: 'Starting', ready: 'Ready', ended: 'Ended' };

/** A session's state as a pill in the evaluation badges' colours; the word is always there. */
export function SessionStatusBadge({ status }: { status: SessionStatus }) {
  return (
    <span className={`badge badge-${SESSION_STATUS_BADGE[status]}`} data-status={status} data-testid="session-status">
      <span className="badge-dot" aria-hidden="true" />
      {SESSION_STATUS_LABELS[status]}
    </span>
  );
}
