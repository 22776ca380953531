/**
 * Summaries of finished evaluations, kept by the process that read them. A terminal evaluation's
 * row never changes again (every write is guarded by a non-terminal status, and evaluations are
 * never deleted), so its summary can be reused as read. A harness polling its batch by tag reads
 * the same finished rows on every poll; building each summary (a row of ~30 columns, three dates,
 * two JSON columns) was most of a page's cost. Bounded: the oldest entries go first.
 */
import { isTerminal, type EvaluationSummary } from '../domain/evaluation.js';

/** Enough for a few large batches polled at once; a summary is about 1 kB of heap. */
const DEFAULT_CAPACITY = 4096;

export class FinishedSummaries {
  private readonly entries = new Map<string, EvaluationSummary>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** The summary last read for a finished evaluation; callers share it, so they must not change it. */
  get(id: string): EvaluationSummary | undefined {
    return this.entries.get(id);
  }

  /** Keeps `summary` if the evaluation has finished (anything else may still change). */
  remember(summary: EvaluationSummary): void {
    if (!isTerminal(summary.status) || this.entries.has(summary.id)) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(summary.id, summary);
  }
}
