// @vitest-environment jsdom
import { act, cleanup, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EvaluationEvent } from '../../../src/domain/events';
import { outputToString } from './output-text';
import { useEvaluationStream } from './use-evaluation-stream';

/** A scriptable EventSource: tests push messages, errors and closes by hand. */
class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static instances: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  private listeners = new Map<string, Array<(e: MessageEvent) => void>>();
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.closed = true;
    this.readyState = FakeEventSource.CLOSED;
  }
  open() {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.();
  }
  emit(e: EvaluationEvent) {
    for (const fn of this.listeners.get(e.type) ?? []) fn(new MessageEvent(e.type, { data: JSON.stringify(e), lastEventId: String(e.seq) }));
  }
  fail() {
    this.readyState = FakeEventSource.CLOSED;
    this.onerror?.();
  }
}

const at = '2025-01-01T00:00:00.000Z';
const out = (seq: number, text: string): EvaluationEvent => ({ seq, at, type: 'stdout', data: { text } });
const running: EvaluationEvent = { seq: 1, at, type: 'status', data: { status: 'running' } };
const done = (seq: number): EvaluationEvent => ({
  seq,
  at,
  type: 'done',
  data: {
    status: 'completed',
    exit_code: 0,
    signal: null,
    reason: 'exit_zero',
    message: 'Exited normally (exit 0).',
    stdout_truncated: false,
    stderr_truncated: false,
    metrics: { wall_ms: 10, cpu_ms: 5, peak_memory_bytes: 1024 },
  },
});

describe('useEvaluationStream', () => {
  beforeEach(() => {
    FakeEventSource.instances = [];
    vi.stubGlobal('EventSource', FakeEventSource);
    vi.useFakeTimers();
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  const flush = () => act(async () => void (await vi.advanceTimersByTimeAsync(20)));

  it('accumulates events, resumes after an HTTP failure without doubling output, and stops at done', async () => {
    const { result } = renderHook(() => useEvaluationStream('ev_1'));
    const first = FakeEventSource.instances[0]!;
    expect(first.url).toBe('/api/evaluations/ev_1/events');
    act(() => first.open());
    act(() => {
      first.emit(running);
      first.emit(out(2, 'a\n'));
    });
    await flush();
    expect(outputToString(result.current.state.stdout)).toBe('a\n');
    expect(result.current.connected).toBe(true);

    // The connection dies for good (e.g. 502 during a restart): a new one resumes after seq 2.
    act(() => first.fail());
    expect(result.current.connected).toBe(false);
    await act(async () => void (await vi.advanceTimersByTimeAsync(1100)));
    const second = FakeEventSource.instances[1]!;
    expect(second.url).toBe('/api/evaluations/ev_1/events?after=2');
    act(() => second.open());
    act(() => {
      second.emit(out(2, 'a\n')); // overlap replayed by the server
      second.emit(out(3, 'b\n'));
      second.emit(done(4));
    });
    await flush();
    expect(outputToString(result.current.state.stdout)).toBe('a\nb\n');
    expect(result.current.state.status).toBe('completed');
    expect(result.current.state.exit?.reason).toBe('exit_zero');
    expect(second.closed).toBe(true);
    await act(async () => void (await vi.advanceTimersByTimeAsync(20_000)));
    expect(FakeEventSource.instances).toHaveLength(2); // no reconnect after done
  });

  it('ignores malformed messages', async () => {
    const { result } = renderHook(() => useEvaluationStream('ev_2'));
    const es = FakeEventSource.instances[0]!;
    act(() => {
      es.emit({ seq: 1, at, type: 'stdout', data: { text: 'ok\n' } });
      // wrong shape: no text
      es.emit({ seq: 2, at, type: 'stdout', data: {} } as unknown as EvaluationEvent);
    });
    await flush();
    expect(outputToString(result.current.state.stdout)).toBe('ok\n');
    expect(result.current.state.lastSeq).toBe(1);
  });
});
