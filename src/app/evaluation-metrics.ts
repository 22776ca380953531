/**
 * What a stored state change means for the metrics: the program starting ends the queue wait, a
 * terminal status is a finished evaluation with its run and end-to-end times. Derived from the
 * stored timestamps (created_at, started_at, finished_at), the same numbers GET /api/stats takes
 * its percentiles from, and from the evaluation as storage returned it, so every process that
 * moves an evaluation (worker, API cancel, reaper) counts exactly the moves it made, and
 * Prometheus sums the processes.
 */
import { isTerminal, type EvaluationSummary } from '../domain/evaluation.js';
import type { Metrics } from '../ports/metrics.js';

const secondsBetween = (fromIso: string, toIso: string) => Math.max(0, (Date.parse(toIso) - Date.parse(fromIso)) / 1000);

export function observeTransition(metrics: Metrics, e: EvaluationSummary, nowMs = Date.now()): void {
  const kind = { environment: e.environment, sandbox: e.sandbox };
  // The wait a user sees: submission to their program starting (a re-run after a platform failure
  // includes the failed attempt; the sandbox start is its own histogram as well).
  if (e.status === 'running' && e.started_at) {
    metrics.queueWait(kind, secondsBetween(e.created_at, e.started_at));
    return;
  }
  if (!isTerminal(e.status)) return;
  const end = e.finished_at ?? new Date(nowMs).toISOString();
  metrics.evaluationFinished({
    ...kind,
    status: e.status,
    reason: e.reason,
    runSeconds: e.started_at ? secondsBetween(e.started_at, end) : null,
    endToEndSeconds: secondsBetween(e.created_at, end),
  });
}
