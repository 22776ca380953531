/**
 * Results for evaluations that end without their program finishing in a sandbox (cancelled while
 * queued, lost with a dead worker, never startable), worded by the domain like every other
 * verdict, and the `done` event that closes an evaluation's event log.
 */
import type { Evaluation, TerminalStatus } from '../domain/evaluation.js';
import type { NewEvaluationEvent } from '../domain/events.js';
import { statusForReason } from '../domain/exit-interpretation.js';
import { storableOutput } from '../domain/output-text.js';
import { resultWithoutRun as resultForLimits, type EndingWithoutRun, type RunResult } from '../domain/run-result.js';
import type { TransitionPatch } from '../ports/storage.js';

/** See src/domain/run-result.ts; with the evaluation's own limits, for the platform's callers. */
export function resultWithoutRun(evaluation: Pick<Evaluation, 'limits'>, ending: EndingWithoutRun): RunResult {
  return resultForLimits(evaluation.limits, ending);
}

export function terminalStatusOf(result: RunResult): TerminalStatus {
  return statusForReason(result.reason) as TerminalStatus;
}

/** The patch and events that record `result` as an evaluation's final state. */
export function finalRecord(
  result: RunResult,
  finishedAt = new Date().toISOString(),
): { status: TerminalStatus; patch: TransitionPatch; done: NewEvaluationEvent } {
  const status = terminalStatusOf(result);
  return {
    status,
    patch: {
      finished_at: finishedAt,
      exit_code: result.exit_code,
      signal: result.signal,
      reason: result.reason,
      message: result.message,
      stdout: storableOutput(result.stdout),
      stderr: storableOutput(result.stderr),
      ...(result.stdout_raw === undefined ? {} : { stdout_raw: result.stdout_raw }),
      ...(result.stderr_raw === undefined ? {} : { stderr_raw: result.stderr_raw }),
      stdout_truncated: result.stdout_truncated,
      stderr_truncated: result.stderr_truncated,
      metrics: result.metrics,
      ...(result.artifacts ? { artifacts: result.artifacts } : {}),
    },
    done: {
      type: 'done',
      at: finishedAt,
      data: {
        status,
        exit_code: result.exit_code,
        signal: result.signal,
        reason: result.reason,
        message: result.message,
        stdout_truncated: result.stdout_truncated,
        stderr_truncated: result.stderr_truncated,
        metrics: result.metrics,
      },
    },
  };
}
