import { describe, expect, it } from 'vitest';
import { latencyStats, nearestRank } from '../../src/domain/percentiles.js';

describe('latency percentiles (nearest rank)', () => {
  it('reports only measured values', () => {
    expect(nearestRank([], 0.5)).toBeNull();
    expect(nearestRank([7], 0.95)).toBe(7);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(nearestRank(hundred, 0.5)).toBe(50);
    expect(nearestRank(hundred, 0.95)).toBe(95);
    expect(nearestRank([1, 2, 3], 0.5)).toBe(2);
    expect(nearestRank([1, 2, 3], 0.95)).toBe(3);
  });

  it('groups by sandbox and environment', () => {
    const stats = latencyStats(
      [
        { environment: 'python', sandbox: 'bubblewrap', queueWaitMs: 10, runMs: 100 },
        { environment: 'python', sandbox: 'bubblewrap', queueWaitMs: 30, runMs: 300 },
        { environment: 'python', sandbox: 'gvisor', queueWaitMs: 200, runMs: 900 },
      ],
      false,
    );
    expect(stats).toEqual({
      count: 3,
      queue_wait_ms: { p50: 30, p95: 200 },
      run_ms: { p50: 300, p95: 900 },
      by_sandbox: {
        bubblewrap: { count: 2, queue_wait_ms: { p50: 10, p95: 30 }, run_ms: { p50: 100, p95: 300 } },
        gvisor: { count: 1, queue_wait_ms: { p50: 200, p95: 200 }, run_ms: { p50: 900, p95: 900 } },
      },
      by_environment: { python: { count: 3, queue_wait_ms: { p50: 30, p95: 200 }, run_ms: { p50: 300, p95: 900 } } },
      sampled: false,
    });
    expect(latencyStats([], true)).toEqual({
      count: 0,
      queue_wait_ms: { p50: null, p95: null },
      run_ms: { p50: null, p95: null },
      by_sandbox: {},
      by_environment: {},
      sampled: true,
    });
  });
});
