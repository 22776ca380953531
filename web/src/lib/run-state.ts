/**
 * The live state of one evaluation, built from its SSE event log. Events carry a gap-free
 * sequence number; anything at or below the last one applied is a replay (after a reconnect, or
 * a late subscriber's history overlapping what we already have) and is ignored, so output is
 * never doubled.
 */
import type { EvaluationStatus, Metrics, Reason } from '../../../src/domain/evaluation';
import type { EvaluationEvent, MetricsSample } from '../../../src/domain/events';
import { appendOutput, NO_OUTPUT, type OutputText } from './output-text';

/** Charts only need the recent past; a long run must not grow memory without bound. */
export const MAX_SAMPLES = 1200;

export interface StatusStep {
  status: EvaluationStatus;
  at: string;
}

export interface RunExit {
  exit_code: number | null;
  signal: string | null;
  reason: Reason | null;
  message: string | null;
  metrics: Metrics;
}

export interface RunState {
  status: EvaluationStatus | null;
  steps: StatusStep[];
  reason: Reason | null;
  message: string | null;
  worker: string | null;
  stdout: OutputText;
  stderr: OutputText;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  samples: MetricsSample[];
  exit: RunExit | null;
  lastSeq: number;
}

export const initialRunState: RunState = {
  status: null,
  steps: [],
  reason: null,
  message: null,
  worker: null,
  stdout: NO_OUTPUT,
  stderr: NO_OUTPUT,
  stdoutTruncated: false,
  stderrTruncated: false,
  samples: [],
  exit: null,
  lastSeq: -1,
};

export type RunAction = { type: 'events'; events: readonly EvaluationEvent[] } | { type: 'reset' };

function withStep(steps: StatusStep[], status: EvaluationStatus, at: string): StatusStep[] {
  return steps.length > 0 && steps[steps.length - 1]?.status === status ? steps : [...steps, { status, at }];
}

/** Applies one event; pure, returns the same object when the event is a replay. */
export function applyEvent(state: RunState, event: EvaluationEvent): RunState {
  if (event.seq <= state.lastSeq) return state;
  const next: RunState = { ...state, lastSeq: event.seq };
  switch (event.type) {
    case 'status':
      next.status = event.data.status;
      next.steps = withStep(state.steps, event.data.status, event.at);
      if (event.data.reason !== undefined) next.reason = event.data.reason;
      if (event.data.message !== undefined) next.message = event.data.message;
      if (event.data.worker) next.worker = event.data.worker;
      return next;
    case 'stdout':
      next.stdout = appendOutput(state.stdout, event.data.text);
      return next;
    case 'stderr':
      next.stderr = appendOutput(state.stderr, event.data.text);
      return next;
    case 'metrics':
      next.samples = state.samples.length >= MAX_SAMPLES ? [...state.samples.slice(1), event.data] : [...state.samples, event.data];
      return next;
    case 'done': {
      const d = event.data;
      next.status = d.status;
      next.steps = withStep(state.steps, d.status, event.at);
      next.reason = d.reason;
      next.message = d.message;
      next.stdoutTruncated = d.stdout_truncated;
      next.stderrTruncated = d.stderr_truncated;
      next.exit = { exit_code: d.exit_code, signal: d.signal, reason: d.reason, message: d.message, metrics: d.metrics };
      return next;
    }
  }
}

export function runReducer(state: RunState, action: RunAction): RunState {
  if (action.type === 'reset') return initialRunState;
  let s = state;
  for (const e of action.events) s = applyEvent(s, e);
  return s;
}

export interface CpuPoint {
  elapsed_ms: number;
  /** CPU used over the interval since the previous sample, in cores (1 = one core fully busy). */
  cores: number;
}

/** CPU time is cumulative; what a chart shows is its rate between consecutive samples. */
export function cpuRate(samples: readonly MetricsSample[]): CpuPoint[] {
  const out: CpuPoint[] = [];
  // Both counters start at zero when the sandbox starts, so even the first sample has a rate
  // (CPU since the start): a run shorter than two sampling intervals still gets a CPU point.
  let prev: Pick<MetricsSample, 'elapsed_ms' | 'cpu_ms'> = { elapsed_ms: 0, cpu_ms: 0 };
  for (const b of samples) {
    const dt = b.elapsed_ms - prev.elapsed_ms;
    if (dt <= 0) continue;
    out.push({ elapsed_ms: b.elapsed_ms, cores: Math.max(0, (b.cpu_ms - prev.cpu_ms) / dt) });
    prev = b;
  }
  return out;
}
