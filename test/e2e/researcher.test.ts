/**
 * What researchers reach for after their first runs, in Chromium against a real `crucible serve`:
 * named runs (else the code's first meaningful line) in History and on the dashboard, every
 * limit settable with the server's ranges, and the views added for issue 14. Screenshots of each
 * view go to test-artifacts/screenshots/.
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

/** Submits a program through the API and waits until it is over. */
async function finishedRun(body: Record<string, unknown>): Promise<string> {
  const { id } = await api<{ id: string }>('/api/evaluations', body);
  for (let i = 0; i < 300; i++) {
    const e = await api<{ status: string }>(`/api/evaluations/${id}`);
    if (!['queued', 'provisioning', 'running'].includes(e.status)) return id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${id} did not finish`);
}

async function openEditorWith(draft: Record<string, unknown>) {
  await page.goto(`${server.url}/`);
  await page.evaluate(([key, d]) => localStorage.setItem(key as string, JSON.stringify(d)), [DRAFT_KEY, draft] as const);
  await page.reload();
  await page.locator('.monaco-editor').first().waitFor();
}

async function waitForStatus(status: RegExp, timeout = 30_000) {
  const panel = page.getByTestId('run-panel');
  await panel.waitFor();
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (status.test((await panel.getAttribute('data-status')) ?? '')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run did not reach ${String(status)}`);
}

const runId = async () => (await page.locator('.run-link').textContent())?.replace('↗', '').trim() ?? '';

describe('researcher features', () => {
  it('runs with a name and every limit set in the editor, within the ranges /api/config gives', async () => {
    const config = await api<{ limits: Record<string, { min: number; max: number; default: number }> }>('/api/config');
    await openEditorWith({ code: 'import os\n\n# report the limits\nprint(len(os.sched_getaffinity(0)))\n', tags: [] });

    // Every limit of the API is a field, bounded by the server's own ranges.
    for (const [name, bound] of Object.entries(config.limits)) {
      const field = page.getByTestId(`limit-${name}`);
      expect(await field.getAttribute('min'), name).toBe(String(bound.min));
      expect(await field.getAttribute('max'), name).toBe(String(bound.max));
    }
    expect(config.limits.memory_mb!.min).toBe(16);
    // The sandbox choice says what each one is.
    const hints = page.getByTestId('sandbox-hints');
    expect(await hints.textContent()).toMatch(/bubblewrap: .*namespaces/);
    expect(await hints.textContent()).toMatch(/gvisor: .*user-space kernel/);

    await page.getByLabel('Name', { exact: true }).fill('Tight limits, 4 shots');
    await page.getByTestId('limit-memory_mb').fill('48');
    await page.getByTestId('limit-cpus').fill('0.5');
    await page.getByTestId('limit-max_processes').fill('16');
    await page.getByTestId('limit-max_output_bytes').fill('4096');
    await page.getByTestId('limit-scratch_mb').fill('8');
    await page.getByTestId('limit-timeout_s').fill('5');
    await page.getByText('+ Add metadata').click();
    await page.getByLabel('Metadata key 1').fill('model');
    await page.getByLabel('Metadata value 1').fill('gpt-x');
    // The same program and limits as code to run from a script.
    await page.getByTestId('api-snippet').locator('summary').click();
    expect(await page.getByTestId('api-snippet-text').textContent()).toContain('"memory_mb":48');
    await page.getByRole('button', { name: 'Python SDK' }).click();
    expect(await page.getByTestId('api-snippet-text').textContent()).toMatch(/Crucible\(".*"\)\.run\([\s\S]*memory_mb=48,/);
    await page.screenshot({ path: screenshotPath('editor-settings') });
    await page.getByTestId('run').click();
    await waitForStatus(/completed/);
    const id = await runId();
    const e = await api<{ name: string; limits: Record<string, number>; metadata: Record<string, unknown> }>(`/api/evaluations/${id}`);
    expect(e.name).toBe('Tight limits, 4 shots');
    expect(e.limits).toMatchObject({ timeout_s: 5, memory_mb: 48, cpus: 0.5, max_processes: 16, max_output_bytes: 4096, scratch_mb: 8 });
    expect(e.metadata).toEqual({ model: 'gpt-x' });

    // Below the range: the server's message, next to the field.
    await page.getByTestId('limit-memory_mb').fill('8');
    await page.getByTestId('run').click();
    await page
      .locator('#f-memory_mb-error')
      .getByText(/at least 16/)
      .waitFor();
  });

  it('tells runs apart in History and on the dashboard by name, else by the first meaningful line of code', async () => {
    await finishedRun({ code: 'import sys\n\n# comment\nresult = sum(range(10))\nprint(result)\n' });
    await page.goto(`${server.url}/history`);
    const table = page.getByTestId('history-table');
    await table.getByText('Tight limits, 4 shots').waitFor();
    await table.getByText('result = sum(range(10))').waitFor();
    await page.screenshot({ path: screenshotPath('history-names') });
    // The name is searchable.
    await page.getByLabel('Search').fill('4 shots');
    await page.waitForURL(/q=4\+shots|q=4%20shots/);
    // The filtered page replaces the unfiltered one: the unnamed run leaves.
    await table.getByText('result = sum(range(10))').waitFor({ state: 'detached' });
    expect(await table.locator('tbody tr[data-id]').count()).toBe(1);

    await page.goto(`${server.url}/dashboard`);
    const recent = page.getByTestId('recent-evaluations');
    await recent.getByText('result = sum(range(10))').waitFor();
    await recent.getByText('Tight limits, 4 shots').waitFor();
  });

  it('finds runs by their output and by metadata, with the total count over every page', async () => {
    await finishedRun({ code: 'print("needle-in-stdout")\n', metadata: { model: 'gpt-e2e', task: '3' } });
    await finishedRun({ code: 'print(2)\n', metadata: { model: 'gpt-e2e', task: '4' } });
    await page.goto(`${server.url}/history?q=needle-in-stdout`);
    const table = page.getByTestId('history-table');
    await table.locator('tbody tr[data-id]').first().waitFor();
    expect(await table.locator('tbody tr[data-id]').count()).toBe(1);

    await page.goto(`${server.url}/history`);
    await page.getByLabel('Metadata', { exact: true }).fill('model=gpt-e2e,task=4');
    await page.getByLabel('Metadata', { exact: true }).press('Enter');
    await page.waitForURL(/meta=model/);
    await page
      .getByText('2 evaluations', { exact: false })
      .waitFor({ state: 'detached' })
      .catch(() => undefined);
    await page
      .locator('.page-head')
      .getByText(/^1 evaluation$/)
      .waitFor();
    expect(await table.locator('tbody tr[data-id]').count()).toBe(1);

    // A total over every page, not the rows loaded so far.
    const all = await api<{ total: number }>('/api/evaluations?limit=1');
    await page.goto(`${server.url}/history`);
    await page
      .locator('.page-head')
      .getByText(new RegExp(`^${all.total} evaluations$`))
      .waitFor();
  });

  it('refuses a tag with a space instead of splitting it, and shows how to leave the editor with Tab', async () => {
    await openEditorWith({ code: 'print(1)\n', tags: [] });
    const tags = page.getByLabel('Tags', { exact: true });
    await tags.fill('my experiment');
    await tags.press('Enter');
    await page.getByText(/cannot contain spaces.*my-experiment/).waitFor();
    expect(await page.locator('.chip-input .chip').count()).toBe(0);
    expect(await page.getByTestId('tab-hint').textContent()).toMatch(/Ctrl\+M|⌃⇧M/);
  });

  it('on a phone: scrolls the result into view after Run, folds the charts, keeps History readable', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await openEditorWith({ code: 'import time\nfor i in range(3):\n    print(i, flush=True); time.sleep(0.3)\n', tags: [] });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.getByTestId('run').click();
      await waitForStatus(/completed/);
      await page.waitForTimeout(600); // the smooth scroll
      const box = await page.getByTestId('run-panel').boundingBox();
      expect(box).not.toBeNull();
      expect(box!.y).toBeGreaterThanOrEqual(-1);
      expect(box!.y).toBeLessThan(844);
      // Charts start folded on a phone and open on request.
      const toggle = page.getByTestId('run-metrics-toggle');
      expect(await toggle.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
      await toggle.locator('summary').click();
      await page.getByTestId('run-metrics').waitFor();
      await page.screenshot({ path: screenshotPath('phone-run') });

      await page.goto(`${server.url}/history`);
      const firstTitle = page.locator('.row-title').first();
      await firstTitle.waitFor();
      const titleBox = await firstTitle.boundingBox();
      expect(titleBox!.x + titleBox!.width).toBeLessThanOrEqual(390);
      // Status, run and duration all fit without scrolling sideways.
      const duration = await page.getByTestId('history-table').locator('thead th', { hasText: 'Duration' }).boundingBox();
      expect(duration!.x + duration!.width).toBeLessThanOrEqual(390);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: screenshotPath('phone-history') });
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });
});
