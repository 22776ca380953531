/**
 * Debian's Chromium driven by playwright-core (no browser download). Every request that is not
 * to the local server is blocked and recorded, which proves the UI works offline (no CDN).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from './crucible-server.js';

export const CHROMIUM = process.env.CRUCIBLE_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(repoRoot, 'test-artifacts/screenshots');

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** URLs the page tried to load from anywhere but the server under test. */
  externalRequests: string[];
  /** Uncaught errors in the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** `alsoAllowed`: other origins the page may reach (e.g. an identity provider started by the test). */
export async function launchBrowser(serverUrl: string, alsoAllowed: string[] = []): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'crucible-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const externalRequests: string[] = [];
  const pageErrors: string[] = [];
  const origins = [serverUrl, ...alsoAllowed].map((u) => new URL(u).origin);
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (origins.some((o) => u === o || u.startsWith(`${o}/`)) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    externalRequests.push(u);
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    externalRequests,
    pageErrors,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export const screenshotPath = (name: string) => path.join(SCREENSHOT_DIR, `${name}.png`);
