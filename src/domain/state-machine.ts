/**
 * The evaluation lifecycle. Pure: it only says which moves are legal; storage enforces them
 * atomically (compare-and-set on the current status) so two hosts can never both finish the same
 * evaluation, and a late or duplicate event can never reopen a terminal one.
 *
 *   queued → provisioning → running → completed | failed | timeout | cancelled
 *
 * Back-edges to `queued` exist only for platform failures (a worker died, the sandbox could not
 * start): the user's program is never re-run because it failed on its own.
 */
import { isTerminal, type EvaluationStatus } from './evaluation.js';

const ALLOWED: Record<EvaluationStatus, readonly EvaluationStatus[]> = {
  queued: ['provisioning', 'cancelled', 'failed'],
  provisioning: ['running', 'queued', 'failed', 'cancelled', 'timeout'],
  running: ['completed', 'failed', 'timeout', 'cancelled', 'queued'],
  completed: [],
  failed: [],
  timeout: [],
  cancelled: [],
};

export function canTransition(from: EvaluationStatus, to: EvaluationStatus): boolean {
  return ALLOWED[from].includes(to);
}

/** Statuses from which `to` may be reached: what a compare-and-set update must match. */
export function sourcesOf(to: EvaluationStatus): EvaluationStatus[] {
  return (Object.keys(ALLOWED) as EvaluationStatus[]).filter((from) => ALLOWED[from].includes(to));
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: EvaluationStatus,
    readonly to: EvaluationStatus,
  ) {
    super(isTerminal(from) ? `evaluation is already ${from}; a terminal state is final` : `cannot move an evaluation from ${from} to ${to}`);
  }
}

export function assertTransition(from: EvaluationStatus, to: EvaluationStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

export const ACTIVE_STATUSES: readonly EvaluationStatus[] = ['provisioning', 'running'];
