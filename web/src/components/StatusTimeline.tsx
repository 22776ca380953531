/** queued → provisioning → running → (terminal), with the time each step was reached. */
import { isTerminal, type EvaluationStatus } from '../../../src/domain/evaluation';
import type { StatusStep } from '../lib/run-state';
import { statusLabel } from './StatusBadge';

const FLOW: EvaluationStatus[] = ['queued', 'provisioning', 'running'];

export function StatusTimeline({ steps, status }: { steps: readonly StatusStep[]; status: EvaluationStatus | null }) {
  const reached = new Map(steps.map((s) => [s.status, s.at]));
  const t0 = steps[0] ? Date.parse(steps[0].at) : NaN;
  const terminal: EvaluationStatus | null = status && isTerminal(status) ? status : null;
  const items: Array<{ status: EvaluationStatus | 'finished'; label: string; at?: string | undefined; state: 'done' | 'current' | 'todo' | 'skipped' }> = [];
  const currentIndex = status ? FLOW.indexOf(status) : -1;
  FLOW.forEach((s, i) => {
    const at = reached.get(s);
    let state: 'done' | 'current' | 'todo' | 'skipped' = 'todo';
    if (status === s) state = 'current';
    else if (at || (terminal === null && i < currentIndex)) state = 'done';
    else if (terminal) state = 'skipped';
    items.push({ status: s, label: statusLabel(s), at, state });
  });
  items.push({
    status: terminal ?? 'finished',
    label: terminal ? statusLabel(terminal) : 'Finished',
    at: terminal ? reached.get(terminal) : undefined,
    state: terminal ? 'done' : 'todo',
  });
  const offset = (at?: string) => {
    if (!at || Number.isNaN(t0)) return '';
    const ms = Date.parse(at) - t0;
    return ms <= 0 ? '' : `+${ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`}`;
  };
  return (
    <ol className="timeline" aria-label="Progress">
      {items.map((it) => (
        <li key={it.status} className={`step step-${it.state} step-${it.status}`} aria-current={it.state === 'current' ? 'step' : undefined}>
          <span className="step-dot" aria-hidden="true" />
          <span className="step-label">{it.label}</span>
          <span className="step-time muted">{offset(it.at)}</span>
        </li>
      ))}
    </ol>
  );
}
