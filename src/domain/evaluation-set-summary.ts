/**
 * The summary of a set of evaluations (one tag's, one batch's: whatever the list filters select)
 * for the batch view and GET /api/evaluations/summary: how many ended each way, and the run time
 * percentiles of those that ran to an end.
 */
import { z } from 'zod';
import { EVALUATION_STATUSES, isTerminal, ListEvaluationsQuery, type EvaluationStatus, type EvaluationSummary } from './evaluation.js';
import { nearestRank } from './percentiles.js';

/** At most this many matching evaluations (the newest) are read for one summary: a bounded cost at any table size. */
export const SUMMARY_SCAN_CAP = 5000;

export const EvaluationSetSummaryQuery = ListEvaluationsQuery.omit({ limit: true, cursor: true });
export type EvaluationSetSummaryQuery = z.infer<typeof EvaluationSetSummaryQuery>;

const Millis = z.number().nullable();

export const EvaluationSetSummary = z.object({
  total: z.number().int().describe(`How many evaluations were summarised (the newest ${SUMMARY_SCAN_CAP} at most)`),
  sampled: z.boolean().describe(`true when more than ${SUMMARY_SCAN_CAP} match: the figures cover the newest ${SUMMARY_SCAN_CAP}`),
  counts: z.record(z.enum(EVALUATION_STATUSES), z.number().int()).describe('Evaluations per status'),
  passed: z.number().int().describe('Completed with exit code 0'),
  in_flight: z.number().int().describe('Queued, provisioning or running'),
  duration_ms: z
    .object({ count: z.number().int(), p50: Millis, p95: Millis, max: Millis })
    .describe('Run time (wall clock in the sandbox) of the finished evaluations that ran; nearest-rank percentiles'),
  first_created_at: z.string().nullable(),
  last_created_at: z.string().nullable(),
});
export type EvaluationSetSummary = z.infer<typeof EvaluationSetSummary>;

export function summarizeEvaluations(rows: readonly EvaluationSummary[], sampled: boolean): EvaluationSetSummary {
  const counts = Object.fromEntries(EVALUATION_STATUSES.map((s) => [s, 0])) as Record<EvaluationStatus, number>;
  for (const e of rows) counts[e.status]++;
  const durations = rows
    .filter((e) => isTerminal(e.status) && e.metrics.wall_ms !== null)
    .map((e) => e.metrics.wall_ms!)
    .sort((a, b) => a - b);
  const created = rows.map((e) => e.created_at).sort();
  return {
    total: rows.length,
    sampled,
    counts,
    passed: rows.filter((e) => e.status === 'completed' && e.exit_code === 0).length,
    in_flight: counts.queued + counts.provisioning + counts.running,
    duration_ms: {
      count: durations.length,
      p50: nearestRank(durations, 0.5),
      p95: nearestRank(durations, 0.95),
      max: durations.at(-1) ?? null,
    },
    first_created_at: created[0] ?? null,
    last_created_at: created.at(-1) ?? null,
  };
}
