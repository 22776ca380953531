/**
 * The web UI against a real `crucible serve` in Chromium: write and run a program, watch output
 * stream, kill a run, see an OOM explained, validation and syntax errors, history filters,
 * a detail page by URL, the dashboard, and a phone-width layout. Screenshots of each main view
 * go to test-artifacts/screenshots/.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshotPath, type Browser } from './browser.js';
import type { RunningServer } from './crucible-server.js';
import { e2eSession } from './session.js';

const DRAFT_KEY = 'crucible.draft.v1';

const session = e2eSession();
let server: RunningServer;
let browser: Browser;
let page: Page;
beforeAll(() => ({ server, browser, page } = session));
const ids: Record<string, string> = {};

/** Puts a draft in localStorage and reloads the editor, for programs that need not be typed. */
async function openEditorWith(draft: { code: string; tags: string[]; memory_mb?: number; timeout_s?: number }) {
  await page.goto(`${server.url}/`);
  await page.evaluate(
    ([key, d]) =>
      localStorage.setItem(
        key as string,
        JSON.stringify({ stdin: '', environment: 'python', sandbox: 'bubblewrap', timeout_s: 30, memory_mb: 512, ...(d as object) }),
      ),
    [DRAFT_KEY, draft] as const,
  );
  await page.reload();
  await page.locator('.monaco-editor').first().waitFor();
}

async function runAndWaitFor(status: string | RegExp, timeout = 30_000) {
  await page.getByTestId('run').click();
  const panel = page.getByTestId('run-panel');
  await panel.waitFor();
  await expectAttribute(panel, 'data-status', status, timeout);
  return (await page.locator('.run-link').textContent())?.replace('↗', '').trim() ?? '';
}

async function expectAttribute(loc: ReturnType<Page['locator']>, name: string, want: string | RegExp, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await loc.getAttribute(name);
    if (last !== null && (typeof want === 'string' ? last === want : want.test(last))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} stayed ${JSON.stringify(last)}, wanted ${String(want)}`);
}

describe('web UI end to end', () => {
  it('types a program into Monaco, runs it with Ctrl+Enter and streams its output live', async () => {
    await page.goto(`${server.url}/`);
    await page.evaluate((key) => localStorage.removeItem(key), DRAFT_KEY);
    await page.reload();
    const editor = page.locator('.monaco-editor').first();
    await editor.waitFor();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('import time, sys\n', { delay: 40 });
    // Some CPU and a growing allocation per tick, so the live charts have something to show.
    await page.keyboard.type('for i in range(6): x = b"x" * (i * 15_000_000); print("tick", i, sum(range(2_000_000)), flush=True); time.sleep(0.25)\n', {
      delay: 40,
    });
    // Typed brackets get auto-closed by Monaco, so the ANSI escape is assembled with chr(27)/chr(91).
    await page.keyboard.type('E = chr(27) + chr(91); print(E + "32mdone" + E + "0m <b>not bold</b>"); print("bye", file=sys.stderr)', { delay: 40 });

    await page.getByLabel('Tags', { exact: true }).fill('e2e-stream');
    await page.getByLabel('Tags', { exact: true }).press('Enter');
    await editor.click();
    await page.keyboard.press('ControlOrMeta+Enter');

    const panel = page.getByTestId('run-panel');
    const stdout = page.getByTestId('stdout-output');
    await stdout.getByText('tick 0').waitFor({ timeout: 20_000 });
    // Output arrived while the program was still running: it is streamed, not delivered at the end.
    expect(await panel.getAttribute('data-status')).toBe('running');
    await page.getByTestId('run-metrics').waitFor();

    await expectAttribute(panel, 'data-status', 'completed', 20_000);
    await stdout.getByText('tick 5').waitFor();
    expect(await page.getByTestId('exit-title').textContent()).toBe('0 · Exited normally');
    // ANSI colour rendered as a class; the HTML in the output stays text.
    const done = stdout.locator('.ansi-fg-2', { hasText: 'done' });
    expect(await done.count()).toBe(1);
    expect(await stdout.locator('b').count()).toBe(0);
    expect(await stdout.textContent()).toContain('<b>not bold</b>');
    await page.getByTestId('stderr-output').getByText('bye').waitFor();
    ids.stream = (await page.locator('.run-link').textContent())?.replace('↗', '').trim() ?? '';
    expect(ids.stream).not.toBe('');
    await page.keyboard.press('ControlOrMeta+Home'); // scroll the editor back to the start for the picture
    await page.screenshot({ path: screenshotPath('editor-run') });

    // The draft survived: a reload shows the same code.
    await page.reload();
    await page.locator('.monaco-editor').first().waitFor();
    expect(await page.locator('.view-lines').textContent()).toContain('range(6)');
  });

  it('kills a long-running program', async () => {
    await openEditorWith({ code: 'import time\nprint("sleeping", flush=True)\ntime.sleep(120)\n', tags: ['e2e-kill'] });
    const id = await runAndWaitFor('running');
    ids.kill = id;
    await page.getByTestId('stdout-output').getByText('sleeping').waitFor();
    await page.getByTestId('kill').click();
    await expectAttribute(page.getByTestId('run-panel'), 'data-status', 'cancelled', 20_000);
    expect(await page.getByTestId('exit-card').getAttribute('data-reason')).toBe('cancelled');
  });

  it('explains an out-of-memory kill', async () => {
    await openEditorWith({
      code: 'chunks = []\nwhile True:\n    chunks.append(b"x" * 8_000_000)\n',
      tags: ['e2e-oom'],
      memory_mb: 64,
    });
    ids.oom = await runAndWaitFor('failed');
    const card = page.getByTestId('exit-card');
    expect(await card.getAttribute('data-reason')).toBe('oom');
    expect(await page.getByTestId('exit-title').textContent()).toContain('Memory limit exceeded');
    await page.getByRole('button', { name: /What does 137 mean/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.locator('tr[aria-current="true"]').textContent()).toContain('SIGKILL');
    await page.screenshot({ path: screenshotPath('oom-explained') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('shows syntax errors as markers and validation errors next to their field', async () => {
    await openEditorWith({ code: 'def broken(:\n    pass\n', tags: [] });
    await page.getByTestId('run').click();
    await page.getByTestId('syntax-errors').waitFor();
    expect(await page.getByTestId('syntax-errors').textContent()).toMatch(/Line 1/);
    await page.locator('.monaco-editor .squiggly-error').first().waitFor();

    await openEditorWith({ code: 'print(1)\n', tags: [], timeout_s: 100000 });
    await page.getByTestId('run').click();
    const err = page.locator('#f-timeout_s-error');
    await err.waitFor();
    expect(await err.textContent()).toMatch(/at most/);
    expect(await page.locator('#f-timeout_s').getAttribute('aria-invalid')).toBe('true');
  });

  it('lists history and filters it by tag', async () => {
    await page.goto(`${server.url}/history`);
    const table = page.getByTestId('history-table');
    await table.locator(`tr[data-id="${ids.oom}"]`).waitFor();
    expect(await table.locator('tbody tr[data-id]').count()).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: screenshotPath('history') });

    await page.getByLabel('Tags (all of)').fill('e2e-kill');
    await page.getByLabel('Tags (all of)').press('Enter');
    await page.waitForURL(/tags=e2e-kill/);
    await table.locator(`tr[data-id="${ids.stream}"]`).waitFor({ state: 'detached' });
    const rows = table.locator('tbody tr[data-id]');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-id')).toBe(ids.kill);
    expect(await rows.first().getAttribute('data-status')).toBe('cancelled');
  });

  it('pages through history with Load more, without duplicates or gaps', async () => {
    const tag = 'e2e-paging';
    const res = await fetch(`${server.url}/api/evaluations/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ evaluations: Array.from({ length: 60 }, (_, i) => ({ code: `print(${i})`, tags: [tag] })) }),
    });
    expect(res.status).toBe(202);
    const submitted = ((await res.json()) as { ids: string[] }).ids;
    await page.goto(`${server.url}/history?tags=${tag}`);
    const rows = page.getByTestId('history-table').locator('tbody tr[data-id]');
    await rows.nth(49).waitFor();
    expect(await rows.count()).toBe(50); // one page
    await page.getByRole('button', { name: 'Load more' }).click();
    await rows.nth(59).waitFor();
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    expect(shown).toHaveLength(60);
    expect([...shown].sort()).toEqual([...submitted].sort());
    await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' }); // nothing older
  });

  it('opens a detail page by its URL', async () => {
    await page.goto(`${server.url}/evaluations/${ids.stream}`);
    expect(await page.getByTestId('detail-id').textContent()).toBe(ids.stream);
    await page.getByTestId('code-view').getByText('range(6)', { exact: false }).first().waitFor();
    await page.getByTestId('stdout-output').getByText('tick 5').waitFor();
    expect(await page.getByTestId('exit-title').textContent()).toBe('0 · Exited normally');
    await page.screenshot({ path: screenshotPath('detail'), fullPage: true });

    // Re-run: a new evaluation with the same code, on its own page.
    await page.getByTestId('rerun').click();
    await page.waitForURL((u) => u.pathname.startsWith('/evaluations/') && !u.pathname.endsWith(ids.stream!));
    await expectAttribute(page.getByTestId('run-panel'), 'data-status', 'completed', 20_000);
    await page.getByTestId('stdout-output').getByText('tick 5').waitFor();

    // Open in editor: the code lands in the editor's draft.
    await page.getByTestId('open-in-editor').click();
    await page.waitForURL((u) => u.pathname === '/');
    await page.getByTestId('code-editor').locator('.view-lines').getByText('range(6)', { exact: false }).waitFor();
  });

  it('updates history live from the status feed', async () => {
    await page.goto(`${server.url}/history?tags=e2e-live`);
    await page.getByText('No evaluation matches these filters.').waitFor();
    const res = await fetch(`${server.url}/api/evaluations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'import time\ntime.sleep(1)\n', tags: ['e2e-live'] }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const row = page.locator(`tr[data-id="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await expectAttribute(row, 'data-status', 'completed', 20_000);
  });

  it('shows the dashboard with workers and live numbers', async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.getByTestId('workers-table').locator('tbody tr').first().waitFor();
    const finished = page.getByTestId('tile-throughput');
    await finished.getByText(/finished/).waitFor();
    expect(await page.getByTestId('tile-queue').locator('.tile-value').textContent()).toMatch(/^\d+$/);

    // Some load: the activity feed and the running count follow it without a reload.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.url}/api/evaluations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: 'import time\ntime.sleep(4)\n', tags: ['e2e-dash'] }),
      });
      expect(res.status).toBe(202);
    }
    await page.locator('.activity li').nth(2).waitFor({ timeout: 10_000 });
    await page
      .getByTestId('tile-running')
      .locator('.tile-value')
      .getByText(/^[1-9]\d*$/)
      .waitFor({ timeout: 10_000 });
    await page.waitForTimeout(5500); // one more poll, so the live chart has a line
    await page.screenshot({ path: screenshotPath('dashboard') });
  });

  it('fits a phone-width screen', async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${server.url}/evaluations/${ids.oom}`);
    await phone.getByTestId('exit-card').waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: screenshotPath('phone-detail'), fullPage: true });
    await phone.goto(`${server.url}/history`);
    await phone.getByTestId('history-table').locator('tbody tr[data-id]').first().waitFor();
    await phone.screenshot({ path: screenshotPath('phone-history') });
    await phone.close();
  });

  it('applies a saved theme before any script of the bundle runs', async () => {
    const fresh = await browser.context.newPage();
    await fresh.goto(`${server.url}/`);
    await fresh.evaluate(() => localStorage.setItem('crucible.theme.v1', 'dark'));
    // Without its bundle the page can only be themed by the pre-paint script in index.html.
    await fresh.route('**/assets/*.js', (route) => route.abort());
    await fresh.goto(`${server.url}/`);
    expect(await fresh.evaluate(() => document.documentElement.getAttribute('data-theme'))).toBe('dark');
    await fresh.evaluate(() => localStorage.removeItem('crucible.theme.v1'));
    await fresh.close();
  });

  it('loaded nothing from outside the server and threw no page errors', () => {
    expect(browser.externalRequests).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  });
});
