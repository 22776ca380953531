import { describe, expect, it } from 'vitest';
import { observeTransition } from '../../src/app/evaluation-metrics.js';
import type { Evaluation } from '../../src/domain/evaluation.js';
import type { Metrics } from '../../src/ports/metrics.js';

/** A Metrics that records the calls observeTransition makes. */
function recorder() {
  const calls: Array<[string, unknown[]]> = [];
  const record =
    (name: string) =>
    (...args: unknown[]) =>
      void calls.push([name, args]);
  const metrics = { queueWait: record('queueWait'), evaluationFinished: record('evaluationFinished') } as unknown as Metrics;
  return { calls, metrics };
}

const base = {
  environment: 'python',
  sandbox: 'bubblewrap',
  created_at: '2030-01-01T00:00:00.000Z',
  started_at: null,
  finished_at: null,
  reason: null,
  attempts: 1,
};
const evaluation = (e: Partial<Evaluation>) => ({ ...base, ...e }) as Evaluation;

describe('observeTransition: what a stored change means for the metrics', () => {
  it('the program starting ends the queue wait', () => {
    const { calls, metrics } = recorder();
    observeTransition(metrics, evaluation({ status: 'running', started_at: '2030-01-01T00:00:01.500Z' }));
    expect(calls).toEqual([['queueWait', [{ environment: 'python', sandbox: 'bubblewrap' }, 1.5]]]);
  });

  it('a verdict is a finished evaluation with run and end-to-end times; none for what never started', () => {
    const { calls, metrics } = recorder();
    observeTransition(
      metrics,
      evaluation({ status: 'timeout', reason: 'timeout', started_at: '2030-01-01T00:00:01.000Z', finished_at: '2030-01-01T00:00:03.000Z' }),
    );
    observeTransition(metrics, evaluation({ status: 'cancelled', reason: 'cancelled', finished_at: '2030-01-01T00:00:00.250Z' }));
    expect(calls).toEqual([
      ['evaluationFinished', [{ environment: 'python', sandbox: 'bubblewrap', status: 'timeout', reason: 'timeout', runSeconds: 2, endToEndSeconds: 3 }]],
      [
        'evaluationFinished',
        [{ environment: 'python', sandbox: 'bubblewrap', status: 'cancelled', reason: 'cancelled', runSeconds: null, endToEndSeconds: 0.25 }],
      ],
    ]);
  });

  it('other moves record nothing', () => {
    const { calls, metrics } = recorder();
    observeTransition(metrics, evaluation({ status: 'provisioning' }));
    observeTransition(metrics, evaluation({ status: 'queued' }));
    expect(calls).toEqual([]);
  });
});
