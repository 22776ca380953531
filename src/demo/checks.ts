/**
 * Small expectation helpers for scenarios. Each returns the list of broken expectations with the
 * actual value, so a failing demo says exactly what it saw.
 */
import type { EvaluationStatus, Reason } from '../domain/evaluation.js';
import type { ScenarioRun } from './types.js';

type Check = string[];

export function verdict(run: ScenarioRun, status: EvaluationStatus, reason: Reason, exitCode?: number | null): Check {
  const e = run.evaluation;
  const out: Check = [];
  if (e.status !== status) out.push(`status: expected ${status}, got ${e.status}`);
  if (e.reason !== reason) out.push(`reason: expected ${reason}, got ${e.reason} (${e.message})`);
  if (exitCode !== undefined && e.exit_code !== exitCode) out.push(`exit_code: expected ${exitCode}, got ${e.exit_code}`);
  return out;
}

export function contains(run: ScenarioRun, stream: 'stdout' | 'stderr' | 'message', ...needles: string[]): Check {
  const text = stream === 'message' ? (run.evaluation.message ?? '') : run.evaluation[stream];
  return needles.filter((n) => !text.includes(n)).map((n) => `${stream} should contain ${JSON.stringify(n)}; got ${JSON.stringify(text.slice(-300))}`);
}

export function that(condition: boolean, failure: string): Check {
  return condition ? [] : [failure];
}

/**
 * Attack programs print one line per attempt: `BLOCKED <what>: <error>` or `ESCAPED <what>: ...`.
 * The scenario holds when nothing escaped and at least `minBlocked` attempts were blocked (so a
 * program that crashed early cannot pass by printing nothing).
 */
export function nothingEscaped(run: ScenarioRun, minBlocked: number): Check {
  const lines = run.evaluation.stdout.split('\n');
  const escaped = lines.filter((l) => l.startsWith('ESCAPED'));
  const blocked = lines.filter((l) => l.startsWith('BLOCKED')).length;
  return [
    ...escaped.map((l) => `attack succeeded: ${l}`),
    ...that(blocked >= minBlocked, `expected at least ${minBlocked} blocked attempts, saw ${blocked} (stderr: ${run.evaluation.stderr.slice(-300)})`),
  ];
}

export function hostUnharmed(run: ScenarioRun): Check {
  return that(run.host.serverHealthy, 'the server stopped answering /healthz after the run');
}
