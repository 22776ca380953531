/**
 * The Sessions view in Chromium against a real `crucible serve` with real sandboxes: a session
 * created through the API shows in the list; its page shows the live timeline (a file written
 * through the API with its size and SHA-256), runs a command from the console (output and binary
 * bytes shown safely, the exec appearing in the timeline), passes axe-core in both themes, fits a
 * phone, and ends the session after a confirmation.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Session } from '../../src/domain/session.js';
import { axeViolations, setTheme } from './axe.js';
import { screenshotPath, type Browser } from './browser.js';
import type { RunningServer } from './crucible-server.js';
import { e2eSession } from './session.js';

const e2e = e2eSession();
let server: RunningServer;
let browser: Browser;
let page: Page;
beforeAll(() => ({ server, browser, page } = e2e));

let session: Session;
const FILE = new Uint8Array([0, 1, 2, 255, 10, 104, 105]);

describe('sessions view', () => {
  beforeAll(async () => {
    const res = await fetch(`${server.url}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['e2e-sessions'], memory_mb: 256 }),
    });
    session = (await res.json()) as Session;
    expect(res.status, JSON.stringify(session)).toBe(201);
    expect(session.status).toBe('ready');
    const put = await fetch(`${server.url}/api/sessions/${session.id}/files?path=data.bin`, { method: 'PUT', body: FILE });
    expect(put.status).toBe(200);
  }, 60_000);

  it('lists the session with its status, environment and tags, and filters by status', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sessions' }).click();
    const row = page.locator(`[data-testid="sessions-table"] tr[data-id="${session.id}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('ready');
    const text = await row.textContent();
    expect(text).toContain('Ready');
    expect(text).toContain('python');
    expect(text).toContain('e2e-sessions');

    await page.getByRole('button', { name: 'Ended', exact: true }).click();
    await page.getByText('No ended sessions.').waitFor();
    expect(page.url()).toContain('status=ended');
    await page.getByRole('button', { name: 'Ready', exact: true }).click();
    await row.waitFor();
    await page.screenshot({ path: screenshotPath('sessions-list') });
  }, 60_000);

  it('shows the timeline, runs a command from the console and sees its output and its event', async () => {
    await page.locator(`a[href="/sessions/${session.id}"]`).click();
    await page.getByTestId('session-id').getByText(session.id).waitFor();
    const timeline = page.getByTestId('session-timeline');
    const fileEvent = timeline.locator('li[data-type="file_write"]');
    await fileEvent.waitFor();
    const sha = createHash('sha256').update(FILE).digest('hex');
    expect(await fileEvent.textContent()).toContain('data.bin');
    expect(await fileEvent.textContent()).toContain('7 B');
    expect(await fileEvent.textContent()).toContain(sha);

    // stdout is text with an escape sequence; stderr is bytes that are not UTF-8.
    await page.getByTestId('console-input').fill(String.raw`printf 'hello from the console\033[31m\n'; printf '\001\377' >&2; exit 3`);
    await page.getByTestId('console-run').click();
    const result = page.getByTestId('console-result');
    await result.waitFor({ timeout: 30_000 });
    expect(await result.getByTestId('exec-exit').textContent()).toBe('exit 3');
    expect(await page.getByTestId('console-stdout').textContent()).toContain('hello from the console\\x1b[31m');
    expect(await page.getByTestId('console-stderr').textContent()).toContain('01 ff');

    const execEvent = timeline.locator('li[data-type="exec"]').last();
    await execEvent.waitFor();
    expect(await execEvent.getByTestId('exec-command').textContent()).toContain("sh -c 'printf");
    expect(await execEvent.textContent()).toContain('hello from the console');
    expect(await execEvent.getByTestId('exec-exit').textContent()).toBe('exit 3');
    await page.screenshot({ path: screenshotPath('session-detail'), fullPage: true });
  }, 60_000);

  it('passes axe-core in both themes, and fits a phone screen', async () => {
    const found: string[] = [];
    for (const theme of ['light', 'dark'] as const) {
      for (const path of [`/sessions/${session.id}`, '/sessions']) {
        await page.goto(`${server.url}${path}`);
        await setTheme(page, theme);
        await page.reload();
        await page
          .locator(path === '/sessions' ? `tr[data-id="${session.id}"]` : 'li[data-type="exec"]')
          .first()
          .waitFor();
        found.push(...(await axeViolations(page)).map((v) => `${path}, ${theme}: ${v}`));
      }
    }
    await setTheme(page, null);
    expect(found).toEqual([]);

    const phone = await browser.context.newPage();
    try {
      await phone.setViewportSize({ width: 390, height: 844 });
      for (const path of ['/sessions', `/sessions/${session.id}`]) {
        await phone.goto(`${server.url}${path}`);
        await phone
          .locator(path === '/sessions' ? `tr[data-id="${session.id}"]` : 'li[data-type="exec"]')
          .first()
          .waitFor();
        const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${path} is wider than the phone`).toBeLessThanOrEqual(0);
      }
      await phone.screenshot({ path: screenshotPath('phone-session'), fullPage: true });
    } finally {
      await phone.close();
    }
  }, 90_000);

  it('ends the session after a confirmation and shows it ended', async () => {
    await page.goto(`${server.url}/sessions/${session.id}`);
    await page.getByTestId('end-session').click();
    await page.getByRole('button', { name: 'Keep it' }).click();
    await page.getByTestId('end-session').click();
    await page.getByTestId('end-session-confirm').click();
    await page.getByTestId('session-status').getByText('Ended').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('session-ended-reason').textContent()).toContain('deleted');
    await page.getByTestId('session-timeline').locator('li[data-type="status"]').getByText('Ended', { exact: true }).waitFor();
    expect(await page.getByTestId('console-input').count()).toBe(0);
    const after = (await (await fetch(`${server.url}/api/sessions/${session.id}`)).json()) as Session;
    expect(after.status).toBe('ended');

    await page.goto(`${server.url}/sessions?status=ended`);
    const row = page.locator(`tr[data-id="${session.id}"]`);
    await row.waitFor();
    expect(await row.getByTestId('ended-reason').textContent()).toBe('deleted');
  }, 60_000);

  it('loaded nothing from outside the server and threw no page errors', () => {
    expect(browser.externalRequests).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  });
});
