/** GET /api/evaluations/summary: counts per status, passes and run-time percentiles of the evaluations one tag (a batch) selects. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestServer } from '../helpers/server.js';

type Summary = {
  total: number;
  sampled: boolean;
  counts: Record<string, number>;
  passed: number;
  in_flight: number;
  duration_ms: { count: number; p50: number | null; p95: number | null; max: number | null };
};
type Ev = { id: string; status: string; metrics: { wall_ms: number | null } };

describe('evaluation set summary', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer({ workers: 2 });
  });
  afterAll(async () => server?.stop());

  async function waitAllDone(ids: string[]): Promise<Ev[]> {
    for (let i = 0; i < 300; i++) {
      const all = await Promise.all(ids.map(async (id) => (await api<Ev>(server.url, 'GET', `/api/evaluations/${id}`)).body));
      if (all.every((e) => !['queued', 'provisioning', 'running'].includes(e.status))) return all;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('batch did not finish');
  }

  it("summarises one tag's evaluations: statuses, passes and run-time percentiles, nothing of other tags", async () => {
    const batch = await api<{ ids: string[] }>(server.url, 'POST', '/api/evaluations/batch', {
      evaluations: [
        { code: 'print(1)', tags: ['sweep-1'] },
        { code: 'print(2)', tags: ['sweep-1'] },
        { code: 'raise SystemExit(3)', tags: ['sweep-1'] },
        { code: 'import time; time.sleep(30)', timeout_s: 1, tags: ['sweep-1'] },
        { code: 'print("elsewhere")', tags: ['other'] },
      ],
    });
    expect(batch.status).toBe(202);
    const done = await waitAllDone(batch.body.ids);

    const r = await api<Summary>(server.url, 'GET', '/api/evaluations/summary?tags=sweep-1');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ total: 4, sampled: false, passed: 2, in_flight: 0 });
    expect(r.body.counts).toMatchObject({ completed: 2, failed: 1, timeout: 1, queued: 0, cancelled: 0 });
    // Percentiles are measured values of the runs themselves.
    const walls = done
      .slice(0, 4)
      .map((e) => e.metrics.wall_ms)
      .filter((w): w is number => w !== null)
      .sort((a, b) => a - b);
    expect(r.body.duration_ms.count).toBe(walls.length);
    expect(walls).toContain(r.body.duration_ms.p50);
    expect(r.body.duration_ms.p95).toBe(walls.at(-1));
    expect(r.body.duration_ms.max).toBe(walls.at(-1));

    // Filters combine as in the list: only the failed one of the tag.
    const failed = await api<Summary>(server.url, 'GET', '/api/evaluations/summary?tags=sweep-1&status=failed');
    expect(failed.body).toMatchObject({ total: 1, passed: 0 });
  });

  it('answers an empty summary for a tag nobody used, and 400 for paging parameters or a bad status', async () => {
    const none = await api<Summary>(server.url, 'GET', '/api/evaluations/summary?tags=never-used');
    expect(none.body).toMatchObject({ total: 0, passed: 0, duration_ms: { count: 0, p50: null, p95: null, max: null } });
    for (const bad of ['limit=5', 'status=sleeping']) {
      const r = await api<{ error: { code: string } }>(server.url, 'GET', `/api/evaluations/summary?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
    }
  });
});
