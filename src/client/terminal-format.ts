/** Human-readable renderings of evaluations for terminals, shared by the CLI and the demo report. */
import type { Evaluation, EvaluationSummary } from '../domain/evaluation.js';
import { shellExitCode } from '../domain/exit-interpretation.js';
import { formatBytes as formatBytesDomain } from '../domain/format-bytes.js';

/** Binary units (see src/domain/format-bytes.ts); "-" for a metric that was not measured. */
export function formatBytes(n: number | null): string {
  return n === null ? '-' : formatBytesDomain(n);
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function verdictLine(e: Pick<Evaluation, 'status' | 'exit_code' | 'signal' | 'reason' | 'message' | 'metrics'>): string {
  const code = shellExitCode(e.exit_code, e.signal);
  const m = e.metrics;
  return `${e.status}${code === null ? '' : ` · exit ${code}`}${e.reason ? ` · ${e.reason}` : ''} — ${e.message ?? ''} [wall ${formatMs(m.wall_ms)}, cpu ${formatMs(m.cpu_ms)}, peak ${formatBytes(m.peak_memory_bytes)}]`;
}

/**
 * What `crucible run` exits with: the program's own code, 128+n for a signal, and for endings
 * with neither, the conventions of timeout(1) and shells: 124 timeout, 130 cancelled, 125 platform.
 */
export function cliExitCode(e: Pick<Evaluation, 'exit_code' | 'signal' | 'reason'>): number {
  const code = shellExitCode(e.exit_code, e.signal);
  if (e.reason === 'timeout') return 124;
  if (code !== null) return code;
  if (e.reason === 'cancelled') return 130;
  return 125;
}

export function summaryRow(e: EvaluationSummary): string {
  const wall = formatMs(e.metrics.wall_ms).padStart(9);
  return `${e.id}  ${e.status.padEnd(12)} ${(e.reason ?? '').padEnd(14)} ${wall}  ${formatBytes(e.metrics.peak_memory_bytes).padStart(10)}  ${e.created_at}  ${e.tags.join(',')}`;
}
