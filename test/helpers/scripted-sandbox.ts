/**
 * A SandboxBackend that runs nothing: it plays a script of callbacks (start, output, samples,
 * pauses) and resolves with a RunResult built by the domain (interpretExit / resultWithoutRun),
 * so the worker's use-case logic sees realistic verdicts. Aborting `callbacks.signal` ends the run
 * at once with reason `cancelled` and the output played so far, as a real backend does.
 */
import type { SandboxBackendName } from '../../src/domain/evaluation.js';
import type { MetricsSample } from '../../src/domain/events.js';
import { interpretExit, NO_EXIT_FACTS, type ExitFacts } from '../../src/domain/exit-interpretation.js';
import type { Limits } from '../../src/domain/limits.js';
import { resultWithoutRun, type RunResult } from '../../src/domain/run-result.js';
import type { BackendHealth, RunCallbacks, SandboxBackend, SandboxSpec } from '../../src/ports/sandbox.js';

export type ScriptStep =
  | { start: true }
  | { stdout: string }
  | { stderr: string }
  | { sample: MetricsSample }
  | { pauseMs: number }
  /** Blocks until the run is aborted. */
  | { untilAborted: true };

/** How the run ends when its script is over: the program's exit, or a sandbox failure. */
export type ScriptEnding = { exitCode: number; signal?: string; timedOut?: boolean } | { platformError: string };

export interface Script {
  steps: ScriptStep[];
  ending?: ScriptEnding;
}

export interface ScriptedSandbox extends SandboxBackend {
  /** The specs of every run, in order. */
  readonly runs: SandboxSpec[];
  health(): Promise<BackendHealth>;
  setHealth(health: BackendHealth): void;
}

const NO_FACTS = NO_EXIT_FACTS;

/** The RunResult a real backend would report for these facts and this output. */
export function runResult(
  limits: Limits,
  ending: ScriptEnding | { cancelled: true },
  output: { stdout?: string; stderr?: string; wallMs?: number } = {},
): RunResult {
  if ('platformError' in ending) return resultWithoutRun(limits, { platformError: ending.platformError });
  const facts: ExitFacts =
    'cancelled' in ending
      ? { ...NO_FACTS, signal: 'SIGKILL', cancelled: true, limits }
      : { ...NO_FACTS, exitCode: ending.signal ? null : ending.exitCode, signal: ending.signal ?? null, timedOut: ending.timedOut ?? false, limits };
  const verdict = interpretExit(facts);
  return {
    exit_code: facts.exitCode,
    signal: facts.signal,
    reason: verdict.reason,
    message: verdict.message,
    stdout: output.stdout ?? '',
    stderr: output.stderr ?? '',
    stdout_truncated: false,
    stderr_truncated: false,
    metrics: { wall_ms: output.wallMs ?? 12, cpu_ms: 5, peak_memory_bytes: 1_048_576 },
  };
}

function abortable(ms: number | null, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = ms === null ? null : setTimeout(done, ms);
    function done() {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A backend playing `script` (a function: a script per run) on every run. */
export function scriptedSandbox(script: Script | ((spec: SandboxSpec) => Script), name: SandboxBackendName = 'bubblewrap'): ScriptedSandbox {
  const runs: SandboxSpec[] = [];
  let health: BackendHealth = { ok: true, detail: 'scripted' };
  return {
    name,
    runs,
    health: () => Promise.resolve(health),
    setHealth(next) {
      health = next;
    },
    cleanupStale: () => Promise.resolve(),
    async run(spec: SandboxSpec, callbacks: RunCallbacks = {}): Promise<RunResult> {
      runs.push(spec);
      const { steps, ending = { exitCode: 0 } } = typeof script === 'function' ? script(spec) : script;
      const { signal } = callbacks;
      let stdout = '';
      let stderr = '';
      for (const step of steps) {
        if (signal?.aborted) break;
        if ('start' in step) callbacks.onStart?.(Date.now());
        else if ('stdout' in step) {
          stdout += step.stdout;
          callbacks.onStdout?.(step.stdout);
        } else if ('stderr' in step) {
          stderr += step.stderr;
          callbacks.onStderr?.(step.stderr);
        } else if ('sample' in step) callbacks.onSample?.(step.sample);
        else await abortable('pauseMs' in step ? step.pauseMs : null, signal);
      }
      if (signal?.aborted) return runResult(spec.limits, { cancelled: true }, { stdout, stderr });
      return runResult(spec.limits, ending, { stdout, stderr });
    },
  };
}
