/** How one session exec ended, in one line: a reason badge, the exit code or signal, and its wall time. */
import type { ExecReason } from '../../../src/domain/session';
import { formatDuration } from '../lib/format';
import { EXEC_REASON_BADGE, EXEC_REASON_LABEL, exitSummary } from '../lib/session-view';

interface Props {
  reason: ExecReason;
  exit_code: number | null;
  signal: string | null;
  wallMs: number;
}

export function ExecVerdict({ reason, exit_code, signal, wallMs }: Props) {
  return (
    <>
      <span className={`badge badge-${EXEC_REASON_BADGE[reason]}`}>
        <span className="badge-dot" aria-hidden="true" />
        {EXEC_REASON_LABEL[reason]}
      </span>{' '}
      <span className="mono small" data-testid="exec-exit">
        {exitSummary({ exit_code, signal })}
      </span>{' '}
      <span className="muted small">· {formatDuration(wallMs)}</span>
    </>
  );
}
