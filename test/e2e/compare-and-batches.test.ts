/**
 * Issue 14's comparison and batch features in Chromium against a real `crucible serve`: two runs
 * side by side (from History's checkboxes and from a run's "Compare with…", on a desktop and a
 * phone), the link from a forked run to its origin, the batch view of a tag with its bulk actions,
 * the dashboard's stated window and linked tiles, the editor's wrap toggle, and History columns
 * that keep their widths as rows change. Screenshots go to test-artifacts/screenshots/.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshotPath } from './browser.js';
import type { RunningServer } from './crucible-server.js';
import { apiJson } from './api-json.js';
import { e2eSession } from './session.js';

const DRAFT_KEY = 'crucible.draft.v1';

const session = e2eSession();
let server: RunningServer;
let page: Page;
beforeAll(() => ({ server, page } = session));

const api = <T>(path: string, body?: unknown) => apiJson<T>(server.url, path, body);

const ACTIVE = ['queued', 'provisioning', 'running'];

async function finished(ids: string[]): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const all = await Promise.all(ids.map((id) => api<{ status: string }>(`/api/evaluations/${id}`)));
    if (all.every((e) => !ACTIVE.includes(e.status))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${ids.join(', ')} did not finish`);
}

async function finishedRun(body: Record<string, unknown>): Promise<string> {
  const { id } = await api<{ id: string }>('/api/evaluations', body);
  await finished([id]);
  return id;
}

describe('compare and batches', () => {
  let a = '';
  let b = '';

  it('compares two runs picked in History: verdicts and metrics side by side, code and output diffs', async () => {
    a = await finishedRun({ code: 'x = 1\nprint("total", x)\nprint("same line")\n', name: 'baseline', tags: ['cmp'] });
    b = await finishedRun({ code: 'x = 2\nprint("total", x)\nprint("same line")\nraise SystemExit(3)\n', name: 'candidate', tags: ['cmp'] });
    await page.goto(`${server.url}/history?tags=cmp`);
    const table = page.getByTestId('history-table');
    await table.locator(`tr[data-id="${a}"]`).waitFor();
    const compare = page.getByTestId('compare-picked');
    expect(await compare.isDisabled()).toBe(true);
    await table.locator(`tr[data-id="${a}"]`).getByTestId('pick').check();
    await table.locator(`tr[data-id="${b}"]`).getByTestId('pick').check();
    await compare.click();
    await page.waitForURL((u) => u.pathname === '/compare' && u.searchParams.get('a') === a && u.searchParams.get('b') === b);

    const facts = page.getByTestId('compare-facts');
    const result = facts.locator('tr[data-fact="Result"]');
    await result.waitFor();
    expect(await result.getAttribute('data-differs')).toBe('true');
    expect(await result.locator('td[data-side="a"]').textContent()).toBe('0 · Exited normally');
    expect(await result.locator('td[data-side="b"]').textContent()).toBe('3 · Program error');
    expect(await facts.locator('tr[data-fact="Tags"]').getAttribute('data-differs')).toBe('false');

    const code = page.getByTestId('diff-code');
    expect(await page.getByTestId('diff-code-summary').textContent()).toBe('−1 +2 lines');
    expect(await code.locator('tr[data-op="removed"]').allTextContents()).toEqual([expect.stringContaining('x = 1')]);
    expect(await code.locator('tr[data-op="added"]').allTextContents()).toEqual([
      expect.stringContaining('x = 2'),
      expect.stringContaining('raise SystemExit(3)'),
    ]);
    const stdout = page.getByTestId('diff-stdout');
    expect(await stdout.locator('tr[data-op="removed"]').allTextContents()).toEqual([expect.stringContaining('total 1')]);
    expect(await stdout.locator('tr[data-op="added"]').allTextContents()).toEqual([expect.stringContaining('total 2')]);
    expect(await page.getByTestId('diff-stderr').getAttribute('data-same')).toBe('true');
    await page.screenshot({ path: screenshotPath('compare'), fullPage: true });

    // The URL alone reproduces the view (a shared link), and A and B swap.
    await page.getByTestId('compare-swap').click();
    await page.waitForURL((u) => u.searchParams.get('a') === b);
    await page.locator('tr[data-fact="Result"] td[data-side="a"]').getByText('3 · Program error').waitFor();
  });

  it('stacks the two runs on a phone without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${server.url}/compare?a=${a}&b=${b}`);
      await page.getByTestId('compare-facts').waitFor();
      const boxA = (await page.getByTestId('compare-a').boundingBox())!;
      const boxB = (await page.getByTestId('compare-b').boundingBox())!;
      expect(boxB.y).toBeGreaterThanOrEqual(boxA.y + boxA.height);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: screenshotPath('phone-compare'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });

  it('offers "Compare with…" on a run page, with runs of the same tags', async () => {
    await page.goto(`${server.url}/evaluations/${b}`);
    const menu = page.getByTestId('compare-with');
    await menu.locator('summary').click();
    await menu.locator(`[data-testid="compare-candidate"][data-id="${a}"]`).click();
    await page.waitForURL((u) => u.pathname === '/compare' && u.searchParams.get('a') === b && u.searchParams.get('b') === a);
    await page.getByTestId('compare-facts').waitFor();
  });

  it('links a run made with "Fork and edit" back to the run it was forked from', async () => {
    await page.goto(`${server.url}/evaluations/${a}`);
    await page.getByTestId('open-in-editor').click();
    await page.waitForURL((u) => u.pathname === '/');
    await page.getByTestId('code-editor').locator('.view-lines').getByText('x = 1').waitFor();
    await page.getByTestId('run').click();
    const runLink = page.locator('.run-link');
    await runLink.waitFor();
    const forked = (await runLink.textContent())!.replace('↗', '').trim();
    expect(forked).not.toBe(a);
    await page.goto(`${server.url}/evaluations/${forked}`);
    const origin = page.getByTestId('detail-origin');
    expect(await origin.textContent()).toContain(`Forked from ${a}`);
    await origin.getByTestId('origin-link').click();
    await page.waitForURL((u) => u.pathname === `/evaluations/${a}`);
    // The original has no origin of its own.
    await page.getByTestId('detail-id').getByText(a).waitFor();
    expect(await page.getByTestId('detail-origin').count()).toBe(0);
  });

  it("shows one tag's batch: outcome counts linked to History, p50/p95, and re-runs what failed after confirming", async () => {
    const { ids } = await api<{ ids: string[] }>('/api/evaluations/batch', {
      evaluations: [
        { code: 'print("ok 1")', tags: ['sweep'] },
        { code: 'print("ok 2")', tags: ['sweep'] },
        { code: 'raise ValueError("bad")', tags: ['sweep'] },
        { code: 'import time; time.sleep(30)', timeout_s: 1, tags: ['sweep'] },
      ],
    });
    await finished(ids);
    await page.goto(`${server.url}/history?tags=sweep`);
    await page.getByTestId('open-tag-view').click();
    await page.waitForURL((u) => u.pathname === '/tags/sweep');
    await page.getByTestId('batch-total').getByText('4').waitFor();
    expect(await page.getByTestId('batch-passed').locator('.tile-value').textContent()).toBe('2');
    expect(await page.getByTestId('batch-failed').locator('.tile-value').textContent()).toBe('1');
    expect(await page.getByTestId('batch-timeout').locator('.tile-value').textContent()).toBe('1');
    expect(await page.getByTestId('batch-duration').locator('.tile-value').textContent()).toMatch(/^\d.* \/ \d/);
    expect(await page.getByTestId('batch-table').locator('tbody tr[data-id]').count()).toBe(4);
    await page.screenshot({ path: screenshotPath('batch'), fullPage: true });

    // Re-run: asks first, then says what it did; the new runs carry the tag and their origin.
    await page.getByTestId('bulk-rerun').click();
    expect(await page.getByTestId('bulk-confirm').textContent()).toContain('2 failed or timed-out');
    await page.getByTestId('bulk-confirm-yes').click();
    expect(await page.getByTestId('bulk-report').textContent()).toMatch(/^Re-submitted 2 failed or timed-out evaluations/);
    await page.getByTestId('batch-total').getByText('6').waitFor();
    const reruns = await api<{ items: Array<{ metadata: Record<string, unknown>; id: string }> }>('/api/evaluations?tags=sweep&limit=2');
    expect(reruns.items.map((e) => e.metadata.rerun_of).sort()).toEqual([ids[2], ids[3]].sort());
    await finished(reruns.items.map((e) => e.id));

    // A count links to those runs in History.
    await page.getByTestId('batch-failed').click();
    await page.waitForURL((u) => u.pathname === '/history' && u.searchParams.get('status') === 'failed' && u.searchParams.get('tags') === 'sweep');
  });

  it('cancels the queued runs of a batch after confirming, and reports it', async () => {
    const { workers } = await api<{ workers: Array<{ capacity: number; alive: boolean }> }>('/api/workers');
    const slots = workers.filter((w) => w.alive).reduce((s, w) => s + w.capacity, 0);
    const { ids } = await api<{ ids: string[] }>('/api/evaluations/batch', {
      evaluations: Array.from({ length: slots + 3 }, () => ({ code: 'import time; time.sleep(60)', timeout_s: 90, tags: ['long-sweep'] })),
    });
    try {
      await page.goto(`${server.url}/tags/long-sweep`);
      const cancel = page.getByTestId('bulk-cancel');
      await cancel.getByText(/Cancel queued \([1-9]/).waitFor();
      await cancel.click();
      await page
        .getByTestId('bulk-confirm')
        .getByText(/queued evaluation\(s\) tagged “long-sweep”/)
        .waitFor();
      await page.getByTestId('bulk-confirm-yes').click();
      expect(await page.getByTestId('bulk-report').textContent()).toMatch(/^Cancelled [1-9]\d* queued evaluations?/);
      const left = await api<{ total: number }>('/api/evaluations?tags=long-sweep&status=queued');
      expect(left.total).toBe(0);
      await page
        .getByTestId('batch-cancelled')
        .locator('.tile-value')
        .getByText(/^[1-9]/)
        .waitFor();
    } finally {
      await Promise.all(
        ids.map((id) => fetch(`${server.url}/api/evaluations/${id}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })),
      );
      await finished(ids);
    }
  });

  it('states the dashboard window, links its tiles to History, and keeps the live chart across visits', async () => {
    await page.goto(`${server.url}/dashboard`);
    const throughput = page.getByTestId('tile-throughput');
    expect(await throughput.locator('.tile-label').textContent()).toBe('Throughput, last 15 min');
    const chart = page.getByTestId('load-chart');
    await chart.locator('[data-series="Queued"]').waitFor({ state: 'attached' });
    const since = await chart.getAttribute('data-since');
    await page.getByTestId('tile-failure').click();
    await page.waitForURL((u) => u.pathname === '/history' && u.searchParams.get('status') === 'failed,timeout');
    // Back on the dashboard, the chart starts where it did before (the server's history), not empty.
    await page.goBack();
    await chart.locator('[data-series="Queued"]').waitFor({ state: 'attached' });
    expect(Date.parse((await chart.getAttribute('data-since')) ?? '')).toBeLessThanOrEqual(Date.parse(since ?? ''));
  });

  it('wraps long lines in the editor on request, and remembers it', async () => {
    await page.goto(`${server.url}/`);
    await page.evaluate(([key]) => localStorage.setItem(key!, JSON.stringify({ code: `print("${'x'.repeat(400)}")\n`, tags: [] })), [DRAFT_KEY]);
    await page.reload();
    const lines = page.getByTestId('code-editor').locator('.view-line');
    await lines.first().waitFor();
    const before = await lines.count();
    const toggle = page.getByTestId('editor-wrap');
    await toggle.click();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="code-editor"] .view-line').length > n, before);
    await page.reload();
    expect(await page.getByTestId('editor-wrap').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('editor-wrap').click();
  });

  it('keeps History column widths as new rows arrive and runs finish', async () => {
    await page.goto(`${server.url}/history`);
    const table = page.getByTestId('history-table');
    await table.locator('tbody tr[data-id]').first().waitFor();
    const widths = () => table.locator('thead th').evaluateAll((ths) => ths.map((th) => Math.round(th.getBoundingClientRect().width)));
    const before = await widths();
    const id = await finishedRun({
      code: 'print(1)',
      name: 'A deliberately long run name that would widen a column sized by its content'.repeat(2),
      tags: ['a-rather-long-tag-name', 'another-long-tag', 'third-tag'],
    });
    await table.locator(`tr[data-id="${id}"]`).waitFor();
    await page.waitForTimeout(1200); // the debounced refresh with the final metrics
    expect(await widths()).toEqual(before);
  });
});
