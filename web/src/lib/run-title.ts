/** How a run is told apart in listings: its name, else the first meaningful line of its code, else its id. */
import type { EvaluationSummary } from '../../../src/domain/evaluation';

export function runTitle(e: Pick<EvaluationSummary, 'id' | 'name' | 'code_title'>): string {
  return e.name ?? e.code_title ?? e.id;
}

/** Whether the title is the user's own name (shown plainly) or taken from the code (shown as code). */
export function titleIsName(e: Pick<EvaluationSummary, 'name'>): boolean {
  return e.name !== null;
}
