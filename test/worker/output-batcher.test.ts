/** OutputBatcher (src/worker/output-batcher.ts): few flushes, by time and by size, in order. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NewEvaluationEvent } from '../../src/domain/events.js';
import { OutputBatcher } from '../../src/worker/output-batcher.js';

const FLUSH_MS = 100;
const MAX_CHARS = 16;

let flushes: NewEvaluationEvent[][];
let batcher: OutputBatcher;
beforeEach(() => {
  vi.useFakeTimers();
  flushes = [];
  batcher = new OutputBatcher(FLUSH_MS, MAX_CHARS, (events) => flushes.push(events));
});
afterEach(() => {
  vi.useRealTimers();
});

/** Each flush as "type:payload" strings. */
const shape = (batches: NewEvaluationEvent[][]) =>
  batches.map((events) =>
    events.map((e) => {
      if (e.type === 'metrics') return `metrics:${e.data.elapsed_ms}`;
      return e.type === 'stdout' || e.type === 'stderr' ? `${e.type}:${e.data.text}` : e.type;
    }),
  );

const sample = (elapsed_ms: number) => ({ elapsed_ms, cpu_ms: 1, memory_bytes: 1024 });

describe('OutputBatcher', () => {
  it('coalesces chunks and samples arriving within the interval into one flush, latest sample only', () => {
    batcher.addStdout('a');
    batcher.addStderr('x');
    batcher.addSample(sample(10));
    batcher.addStdout('b');
    batcher.addSample(sample(20));
    vi.advanceTimersByTime(FLUSH_MS - 1);
    expect(flushes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(shape(flushes)).toEqual([['stdout:ab', 'stderr:x', 'metrics:20']]);
  });

  it('flushes at once when the pending output reaches the size bound', () => {
    batcher.addStdout('12345678');
    expect(flushes).toEqual([]);
    batcher.addStderr('abcdefgh'); // 16 chars pending
    expect(shape(flushes)).toEqual([['stdout:12345678', 'stderr:abcdefgh']]);
    // The pending timer went with the flush: nothing more is sent for the same output.
    vi.advanceTimersByTime(10 * FLUSH_MS);
    expect(flushes).toHaveLength(1);
  });

  it('keeps the order of output across flushes', () => {
    const chunks = Array.from({ length: 40 }, (_, i) => `${i},`);
    for (const [i, chunk] of chunks.entries()) {
      batcher.addStdout(chunk);
      if (i % 10 === 9) vi.advanceTimersByTime(FLUSH_MS);
    }
    vi.advanceTimersByTime(FLUSH_MS);
    const texts = flushes.flat().map((e) => (e.type === 'stdout' ? e.data.text : ''));
    expect(texts.join('')).toBe(chunks.join(''));
    // 40 chunks, a few flushes (by size every 16 chars, and by time).
    expect(flushes.length).toBeLessThan(chunks.length / 2);
    expect(flushes.every((events) => events.every((e) => e.type === 'stdout'))).toBe(true);
  });

  it('a quiet batcher never flushes', () => {
    vi.advanceTimersByTime(10 * FLUSH_MS);
    expect(flushes).toEqual([]);
    expect(batcher.drain()).toEqual([]);
  });

  it('drain() returns what is pending, without flushing it, and cancels the timer', () => {
    batcher.addStdout('out');
    batcher.addStderr('err');
    batcher.addSample(sample(5));
    const drained = batcher.drain();
    expect(shape([drained])).toEqual([['stdout:out', 'stderr:err', 'metrics:5']]);
    expect(drained.every((e) => typeof e.at === 'string' && !Number.isNaN(Date.parse(e.at)))).toBe(true);
    vi.advanceTimersByTime(10 * FLUSH_MS);
    expect(flushes).toEqual([]);
    expect(batcher.drain()).toEqual([]);
  });

  it('starts a new interval after a flush', () => {
    batcher.addStdout('one');
    vi.advanceTimersByTime(FLUSH_MS);
    batcher.addStdout('two');
    vi.advanceTimersByTime(FLUSH_MS / 2);
    expect(shape(flushes)).toEqual([['stdout:one']]);
    vi.advanceTimersByTime(FLUSH_MS / 2);
    expect(shape(flushes)).toEqual([['stdout:one'], ['stdout:two']]);
  });
});
