/**
 * The outcome of one run as a sandbox reports it: the raw facts (exit code, signal, output,
 * metrics) with the verdict the domain drew from them. Also the result of a run whose program
 * never ran or never finished in a sandbox (cancelled before it started, no sandbox could start,
 * its worker was lost), worded by the domain like any other verdict.
 */
import type { Metrics, Reason } from './evaluation.js';
import { interpretExit, NO_EXIT_FACTS } from './exit-interpretation.js';
import type { Limits } from './limits.js';
import type { CollectedArtifacts } from './artifacts.js';

export interface RunResult {
  exit_code: number | null;
  signal: string | null;
  reason: Reason;
  message: string;
  stdout: string;
  stderr: string;
  /**
   * The output bytes exactly as written (within the same cap), when the text above cannot say
   * them: bytes that are not UTF-8, or NUL. Null (or absent) when the text is exact.
   */
  stdout_raw?: Uint8Array | null;
  stderr_raw?: Uint8Array | null;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  metrics: Metrics;
  /** Files collected from /sandbox/out after the program ended (absent: nothing was collected). */
  artifacts?: CollectedArtifacts;
}

export type EndingWithoutRun = { cancelled: true; detail?: string } | { platformError: string };

export function resultWithoutRun(limits: Limits, ending: EndingWithoutRun): RunResult {
  const verdict = interpretExit({
    ...NO_EXIT_FACTS,
    cancelled: 'cancelled' in ending,
    platformError: 'platformError' in ending ? ending.platformError : null,
    limits,
  });
  return {
    exit_code: null,
    signal: null,
    reason: verdict.reason,
    message: 'cancelled' in ending && ending.detail ? ending.detail : verdict.message,
    stdout: '',
    stderr: '',
    stdout_truncated: false,
    stderr_truncated: false,
    metrics: { wall_ms: null, cpu_ms: null, peak_memory_bytes: null },
  };
}
