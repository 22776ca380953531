/**
 * One real server and one Chromium per test file, with a screenshot of whatever a failing test
 * left on screen. Call at the top level of a test file; read the fields inside tests.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, screenshotPath, type Browser } from './browser.js';
import { startServer, type RunningServer } from './crucible-server.js';

export interface E2eSession {
  server: RunningServer;
  browser: Browser;
  page: Page;
}

export function e2eSession(): E2eSession {
  const session = {} as E2eSession;
  beforeAll(async () => {
    session.server = await startServer();
    session.browser = await launchBrowser(session.server.url);
    session.page = session.browser.page;
  }, 90_000);

  afterEach(async (ctx) => {
    // A failing step leaves a picture of what the browser showed.
    if (ctx.task.result?.state === 'fail' && session.page) {
      const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      await session.page.screenshot({ path: screenshotPath(`failure-${name}`) }).catch(() => undefined);
    }
  });

  afterAll(async () => {
    await session.browser?.close();
    await session.server?.stop();
  });
  return session;
}
