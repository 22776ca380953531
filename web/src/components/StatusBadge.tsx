import type { EvaluationStatus } from '../../../src/domain/evaluation';

const LABELS: Record<EvaluationStatus, string> = {
  queued: 'Queued',
  provisioning: 'Provisioning',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  timeout: 'Timeout',
  cancelled: 'Cancelled',
};

/** Status pill; colour is never the only signal (the word is always there). */
export function StatusBadge({ status }: { status: EvaluationStatus | null }) {
  if (!status) return <span className="badge badge-unknown">…</span>;
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      <span className="badge-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}

export const statusLabel = (s: EvaluationStatus) => LABELS[s];
