/**
 * The RunResult of a run whose program never ran or never finished in a sandbox (cancelled before
 * it started, no sandbox could start, its worker was lost), worded by the domain like any other
 * verdict. Shared by the sandbox backends and the platform, next to the port that defines RunResult.
 */
import { interpretExit } from '../domain/exit-interpretation.js';
import type { Limits } from '../domain/limits.js';
import type { RunResult } from './types.js';

export type EndingWithoutRun = { cancelled: true; detail?: string } | { platformError: string };

export function resultWithoutRun(limits: Limits, ending: EndingWithoutRun): RunResult {
  const verdict = interpretExit({
    exitCode: null,
    signal: null,
    oomKilled: false,
    pidsLimitHit: false,
    timedOut: false,
    outputLimitKilled: false,
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
