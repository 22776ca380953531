/**
 * Summaries as this process last read them, each with the row's version (`last_seq`). Every write
 * to an evaluation's row bumps `last_seq` (a transition adds its status event, an output append
 * its events), so a summary read at the version the row still has is the row's current summary.
 * A harness polling its batch by tag reads the same rows on every poll: finished ones never change
 * again, and queued ones do not change until a worker claims them. Building each summary (a row of
 * ~30 columns, three dates, two JSON columns) was most of a page's cost, and reading the rows of a
 * page of 200 queued evaluations most of its SQL. Bounded: the oldest entries go first.
 */
import type { EvaluationSummary } from '../domain/evaluation.js';

/** Enough for a few large batches polled at once; a summary is about 1 kB of heap. */
const DEFAULT_CAPACITY = 4096;

interface Entry {
  version: number;
  summary: EvaluationSummary;
}

export class SummaryCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** The summary last read for `id` if its row is still at `version`; callers share it, so they must not change it. */
  get(id: string, version: number): EvaluationSummary | undefined {
    const entry = this.entries.get(id);
    return entry?.version === version ? entry.summary : undefined;
  }

  /** Keeps `summary` as read at `version`, in place of any older one. */
  remember(summary: EvaluationSummary, version: number): void {
    const known = this.entries.get(summary.id);
    if (known) {
      if (known.version >= version) return;
      // Re-inserted, so a summary that keeps changing is not the first to go.
      this.entries.delete(summary.id);
    } else if (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(summary.id, { version, summary });
  }
}
