/**
 * The admin audit page in Chromium against a real `crucible serve` (auth off on loopback: the
 * caller is the anonymous admin): the chain's verification status, the entries, and a filter.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshotPath } from './browser.js';
import type { RunningServer } from './crucible-server.js';
import { e2eSession } from './session.js';

const session = e2eSession();
let server: RunningServer;
let page: Page;
beforeAll(() => ({ server, page } = session));

describe('audit page', () => {
  it('shows the chain verified, the entries, and filters them', async () => {
    const submitted = await fetch(`${server.url}/api/evaluations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'print(1)' }),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };

    await page.goto(`${server.url}/audit`);
    await page.getByTestId('audit-verdict').waitFor();
    expect(await page.getByTestId('audit-verdict').textContent()).toMatch(/Chain intact: [1-9]\d* entries verified/);
    const table = page.getByTestId('audit-table');
    await table.getByText(id).waitFor();
    expect(await table.textContent()).toContain('evaluation.submit');
    await page.screenshot({ path: screenshotPath('audit') });

    await page.getByLabel('Outcome').selectOption('denied');
    await page.getByRole('button', { name: 'Apply' }).click();
    await table.getByText('No entries.').waitFor();
  }, 60_000);
});
