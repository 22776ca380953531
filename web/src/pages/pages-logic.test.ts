import { describe, expect, it } from 'vitest';
import type { EvaluationSummary } from '../../../src/domain/evaluation';
import { summariseStats } from './DashboardPage';
import { applyStatusChange, mergeHead } from './HistoryPage';

const row = (id: string, status: EvaluationSummary['status'] = 'queued') => ({ id, status }) as EvaluationSummary;

describe('history live refresh', () => {
  it('puts new rows on top and replaces updated ones in place', () => {
    const cur = [row('b', 'running'), row('a', 'completed')];
    const head = [row('c'), row('b', 'failed')];
    expect(mergeHead(cur, head).map((r) => `${r.id}:${r.status}`)).toEqual(['c:queued', 'b:failed', 'a:completed']);
  });
});

describe('history status changes', () => {
  const rows = [row('b', 'running'), row('a', 'queued')];
  const show = (r: EvaluationSummary[]) => r.map((e) => `${e.id}:${e.status}`);

  it('patches the row in place when there is no status filter, or it still matches', () => {
    expect(show(applyStatusChange(rows, { id: 'b', status: 'completed', reason: 'exit_zero' }, []))).toEqual(['b:completed', 'a:queued']);
    expect(show(applyStatusChange(rows, { id: 'a', status: 'running', reason: null }, ['running', 'queued']))).toEqual(['b:running', 'a:running']);
  });

  it('removes a row whose new status leaves the status filter', () => {
    expect(show(applyStatusChange(rows, { id: 'b', status: 'completed', reason: 'exit_zero' }, ['running', 'queued']))).toEqual(['a:queued']);
  });
});

describe('dashboard stats', () => {
  it('computes throughput per minute and failure rate (failed + timeout)', () => {
    const b = (completed: number, failed: number, timeout: number, cancelled: number) => ({ start: '', completed, failed, timeout, cancelled });
    const s = summariseStats([b(6, 1, 1, 0), b(2, 0, 0, 2)], 60);
    expect(s).toEqual({ finished: 12, perMinute: 6, failureRate: 2 / 12 });
    expect(summariseStats([], 60).failureRate).toBeNull();
  });
});
