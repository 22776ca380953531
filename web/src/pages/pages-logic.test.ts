import { describe, expect, it } from 'vitest';
import type { EvaluationSummary } from '../../../src/domain/evaluation';
import { loadPoints, summariseStats } from './DashboardPage';
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

describe('dashboard queue chart', () => {
  const t0 = Date.parse('2030-01-01T00:00:00.000Z');
  const history = {
    interval_s: 2,
    samples: [
      { at: new Date(t0).toISOString(), queued: 3, running: 1 },
      { at: new Date(t0 + 2000).toISOString(), queued: 2, running: 2 },
    ],
  };

  it("starts from the server's samples and ends at the live numbers", () => {
    expect(loadPoints(history, { queued: 1, running: 2 }, t0 + 3000)).toEqual([
      { t: t0, queued: 3, running: 1 },
      { t: t0 + 2000, queued: 2, running: 2 },
      { t: t0 + 3000, queued: 1, running: 2 },
    ]);
    expect(loadPoints(history, null, t0 + 3000)).toHaveLength(2);
  });

  it("keeps the live point within one interval of the server's last sample, whatever the browser's clock says", () => {
    expect(loadPoints(history, { queued: 0, running: 0 }, t0 + 3_600_000).at(-1)?.t).toBe(t0 + 4000);
    expect(loadPoints(history, { queued: 0, running: 0 }, t0 - 3_600_000).at(-1)?.t).toBe(t0 + 2000);
  });

  it('draws only the live point when the server has no history yet', () => {
    expect(loadPoints({ interval_s: 0, samples: [] }, { queued: 4, running: 1 }, t0)).toEqual([{ t: t0, queued: 4, running: 1 }]);
    expect(loadPoints(undefined, null, t0)).toEqual([]);
  });
});
