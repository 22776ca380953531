/**
 * The dashboard's charts start from the server's recent history, in Chromium against a real
 * `crucible serve`: evaluations queued, run and finished before the page is opened are on both
 * charts at the first paint, and the queue chart then goes on live. Saves the dashboard's
 * screenshot (test-artifacts/screenshots/dashboard-history.png, the README's dashboard picture).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { StatsResponse } from '../../src/domain/system-views.js';
import { apiJson } from './api-json.js';
import { screenshotPath } from './browser.js';
import type { RunningServer } from './crucible-server.js';
import { e2eSession } from './session.js';

const session = e2eSession();
let server: RunningServer;
let page: Page;
beforeAll(() => ({ server, page } = session));

const api = <T>(path: string, body?: unknown) => apiJson<T>(server.url, path, body);
const stats = () => api<StatsResponse>('/api/stats?minutes=15&bucket_s=60');

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

describe('dashboard history', () => {
  it('draws the queue and throughput charts from before the page load at the first paint, then goes on live', async () => {
    await until('a live worker', async () => (await api<{ workers: Array<{ alive: boolean }> }>('/api/workers')).workers.some((w) => w.alive));
    // Before any page is open: two runs finish (one fails), then more sleeping runs than workers queue up.
    const quick = await Promise.all(
      ['print("ok")\n', 'raise SystemExit(1)\n'].map((code) => api<{ id: string }>('/api/evaluations', { code, tags: ['dash-history'] })),
    );
    await until('the quick runs finishing', async () => {
      const all = await Promise.all(quick.map((e) => api<{ status: string }>(`/api/evaluations/${e.id}`)));
      return all.every((e) => e.status === 'completed' || e.status === 'failed');
    });
    for (let i = 0; i < 5; i++) {
      await api('/api/evaluations', { code: 'import time\ntime.sleep(5)\n', name: `sleeper ${i + 1}`, tags: ['dash-history'] });
    }
    // The server samples every 2 s: wait until its history holds a few samples with a queue.
    await until('samples with a queue', async () => (await stats()).load.samples.filter((s) => s.queued > 0).length >= 2);
    const before = await stats();
    expect(before.load.interval_s).toBe(2);

    const openedAt = Date.now();
    await page.goto(`${server.url}/dashboard`);
    const chart = page.getByTestId('load-chart');
    const queued = chart.locator('[data-series="Queued"]');
    await queued.waitFor({ state: 'attached' });
    // The first paint already has every sample the server had before the page existed.
    const firstPoints = Number(await queued.getAttribute('data-points'));
    expect(firstPoints).toBeGreaterThanOrEqual(before.load.samples.length);
    expect(Date.parse((await chart.getAttribute('data-since')) ?? '')).toBeLessThan(openedAt - 2000);
    expect(Number(await chart.locator('[data-series="Running"]').getAttribute('data-points'))).toBe(firstPoints);

    // The throughput chart too: the runs that finished before the page was opened are on it.
    const throughput = page.locator('.dash-charts figure').first().locator('svg');
    expect(await throughput.getAttribute('aria-label')).toMatch(/[2-9]\d* finished/);

    // Then live: the next polls add points without a reload.
    await until('a live point', async () => Number(await queued.getAttribute('data-points')) > firstPoints, 20_000);
    await page.screenshot({ path: screenshotPath('dashboard-history') });
  });
});
