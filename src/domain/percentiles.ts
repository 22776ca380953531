/**
 * Latency percentiles of finished evaluations (queue wait, run time), overall and per sandbox and
 * environment, for GET /api/stats. Nearest-rank percentiles: every reported value is one that was
 * really measured, and the same code answers for SQLite and PostgreSQL (neither dialect's
 * percentile functions exist in the other).
 */
import type { LatencyGroup, LatencyStats, Percentiles } from './system-views.js';

export interface DurationSample {
  environment: string;
  sandbox: string;
  queueWaitMs: number;
  runMs: number;
}

/** Nearest-rank percentile (q in 0..1) of ascending `sorted`; null when empty. */
export function nearestRank(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: nearestRank(sorted, 0.5), p95: nearestRank(sorted, 0.95) };
}

function group(samples: readonly DurationSample[]): LatencyGroup {
  return { count: samples.length, queue_wait_ms: percentiles(samples.map((s) => s.queueWaitMs)), run_ms: percentiles(samples.map((s) => s.runMs)) };
}

function groupBy(samples: readonly DurationSample[], key: (s: DurationSample) => string): Record<string, LatencyGroup> {
  const groups = new Map<string, DurationSample[]>();
  for (const s of samples) groups.set(key(s), [...(groups.get(key(s)) ?? []), s]);
  return Object.fromEntries([...groups].map(([k, v]) => [k, group(v)]));
}

export function latencyStats(samples: readonly DurationSample[], sampled: boolean): LatencyStats {
  return { ...group(samples), by_sandbox: groupBy(samples, (s) => s.sandbox), by_environment: groupBy(samples, (s) => s.environment), sampled };
}
