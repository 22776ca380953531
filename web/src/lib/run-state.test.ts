import { describe, expect, it } from 'vitest';
import type { EvaluationEvent } from '../../../src/domain/events';
import { outputToString } from './output-text';
import { applyEvent, cpuRate, initialRunState, MAX_SAMPLES, runReducer } from './run-state';

const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();
const ev = {
  status: (seq: number, status: 'queued' | 'provisioning' | 'running'): EvaluationEvent => ({ seq, at: at(seq), type: 'status', data: { status } }),
  out: (seq: number, text: string): EvaluationEvent => ({ seq, at: at(seq), type: 'stdout', data: { text } }),
  err: (seq: number, text: string): EvaluationEvent => ({ seq, at: at(seq), type: 'stderr', data: { text } }),
  metrics: (seq: number, elapsed_ms: number, cpu_ms: number, memory_bytes: number): EvaluationEvent => ({
    seq,
    at: at(seq),
    type: 'metrics',
    data: { elapsed_ms, cpu_ms, memory_bytes, pids: 1 },
  }),
  done: (seq: number): EvaluationEvent => ({
    seq,
    at: at(seq),
    type: 'done',
    data: {
      status: 'failed',
      exit_code: null,
      signal: 'SIGKILL',
      reason: 'oom',
      message: 'Memory limit exceeded (64 MiB): the kernel killed the process (exit 137).',
      stdout_truncated: false,
      stderr_truncated: true,
      metrics: { wall_ms: 900, cpu_ms: 700, peak_memory_bytes: 67_108_864 },
    },
  }),
};

const history: EvaluationEvent[] = [
  ev.status(1, 'queued'),
  ev.status(2, 'provisioning'),
  ev.status(3, 'running'),
  ev.out(4, 'hello '),
  ev.err(5, 'warn\n'),
  ev.out(6, 'world\n'),
  ev.metrics(7, 100, 50, 1000),
  ev.done(8),
];

describe('run reducer', () => {
  it('follows status transitions with their times', () => {
    const s = runReducer(initialRunState, { type: 'events', events: history.slice(0, 3) });
    expect(s.status).toBe('running');
    expect(s.steps.map((x) => x.status)).toEqual(['queued', 'provisioning', 'running']);
    expect(s.steps[2]?.at).toBe(at(3));
    expect(s.exit).toBeNull();
  });

  it('accumulates stdout and stderr separately', () => {
    const s = runReducer(initialRunState, { type: 'events', events: history.slice(0, 6) });
    expect(outputToString(s.stdout)).toBe('hello world\n');
    expect(outputToString(s.stderr)).toBe('warn\n');
  });

  it('ends with the verdict from done', () => {
    const s = runReducer(initialRunState, { type: 'events', events: history });
    expect(s.status).toBe('failed');
    expect(s.steps.at(-1)?.status).toBe('failed');
    expect(s.exit).toMatchObject({ signal: 'SIGKILL', reason: 'oom', exit_code: null });
    expect(s.stderrTruncated).toBe(true);
    expect(s.samples).toHaveLength(1);
  });

  it('ignores replayed events after a reconnect (dedupe by seq)', () => {
    const first = runReducer(initialRunState, { type: 'events', events: history.slice(0, 5) });
    // The server resends from seq 3 on; nothing may be doubled.
    const resumed = runReducer(first, { type: 'events', events: history.slice(2) });
    const once = runReducer(initialRunState, { type: 'events', events: history });
    expect(resumed).toEqual(once);
    expect(outputToString(resumed.stdout)).toBe('hello world\n');
  });

  it('returns the same state object for a replay', () => {
    const s = applyEvent(initialRunState, ev.out(1, 'x'));
    expect(applyEvent(s, ev.out(1, 'x'))).toBe(s);
  });

  it('keeps a bounded window of samples', () => {
    const events = Array.from({ length: MAX_SAMPLES + 50 }, (_, i) => ev.metrics(i + 1, i * 100, i * 10, i));
    const s = runReducer(initialRunState, { type: 'events', events });
    expect(s.samples).toHaveLength(MAX_SAMPLES);
    expect(s.samples.at(-1)?.memory_bytes).toBe(MAX_SAMPLES + 49);
  });

  it('reset clears everything', () => {
    const s = runReducer(initialRunState, { type: 'events', events: history });
    expect(runReducer(s, { type: 'reset' })).toBe(initialRunState);
  });
});

describe('cpuRate', () => {
  it('turns cumulative CPU time into cores used per interval', () => {
    const samples = [
      { elapsed_ms: 0, cpu_ms: 0, memory_bytes: 0 },
      { elapsed_ms: 500, cpu_ms: 500, memory_bytes: 0 },
      { elapsed_ms: 1000, cpu_ms: 750, memory_bytes: 0 },
      { elapsed_ms: 1000, cpu_ms: 800, memory_bytes: 0 }, // same instant: skipped
    ];
    expect(cpuRate(samples)).toEqual([
      { elapsed_ms: 500, cores: 1 },
      { elapsed_ms: 1000, cores: 0.5 },
    ]);
  });

  it('gives a single sample a rate since the start (a sub-second run has a CPU point)', () => {
    expect(cpuRate([{ elapsed_ms: 300, cpu_ms: 150, memory_bytes: 0 }])).toEqual([{ elapsed_ms: 300, cores: 0.5 }]);
  });
});
