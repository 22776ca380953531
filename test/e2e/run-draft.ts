/** Runs a program from the editor as a user would: the draft in localStorage, Run, the run panel until completed. */
import type { Page } from 'playwright-core';

export const DRAFT_KEY = 'crucible.draft.v1';

/** Answers the new evaluation's id once the run panel shows it completed. */
export async function runDraft(
  page: Page,
  draft: { code: string; tags?: string[]; memory_mb?: number; environment?: string; timeout_s?: number },
  timeoutMs = 30_000,
): Promise<string> {
  await page.evaluate(
    ([key, d]) =>
      localStorage.setItem(
        key as string,
        JSON.stringify({ stdin: '', tags: [], environment: 'python', sandbox: 'bubblewrap', timeout_s: 30, memory_mb: 512, ...(d as object) }),
      ),
    [DRAFT_KEY, draft] as const,
  );
  await page.reload();
  await page.locator('.monaco-editor').first().waitFor();
  await page.getByTestId('run').click();
  await page.getByTestId('run-panel').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="run-panel"]')?.getAttribute('data-status') === 'completed', undefined, {
    timeout: timeoutMs,
  });
  const id = ((await page.locator('.run-link').textContent()) ?? '').replace('↗', '').trim();
  if (!/^ev_/.test(id)) throw new Error(`the run panel shows no evaluation id (${JSON.stringify(id)})`);
  return id;
}
