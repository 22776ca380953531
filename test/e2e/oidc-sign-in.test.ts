/**
 * Web sign-in in Chromium against a real `crucible serve --auth required` and a genuine OpenID
 * Provider (`oidc-provider`) started here: the sign-in page, the provider's login and consent
 * pages, back signed in with the role and project from the claims; a run submitted and seen; a
 * cookie-authenticated change without (or with a wrong) CSRF token refused; a viewer refused a
 * submission; sign-out; and signing in with an API key instead (the key not kept by the browser).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, screenshotPath, type Browser } from './browser.js';
import { repoRoot, startServer, type RunningServer } from './crucible-server.js';
import { runDraft } from './run-draft.js';
import { reserveIssuer, startIdentityProvider, type TestIdentityProvider } from '../helpers/oidc-provider.js';
import { apiKeySecret } from '../helpers/api-keys.js';

const CLIENT_SECRET_ENV = 'CRUCIBLE_OIDC_CLIENT_SECRET';

let idp: TestIdentityProvider;
let server: RunningServer;
const browsers: Browser[] = [];
let browserKey: string;

beforeAll(async () => {
  const at = await reserveIssuer();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crucible-e2e-oidc-'));
  browserKey = execFileSync(
    process.execPath,
    [path.join(repoRoot, 'dist/cli/main.js'), 'keys', 'create', '--role', 'researcher', '--name', 'browser key', '--project', 'beta', '--data-dir', dataDir],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  ).trim();
  // The client secret through the environment, as the README recommends (a flag shows in `ps`).
  const secret = 'a-client-secret-for-the-test-only-0123456789';
  server = await startServer({
    dataDir,
    workers: 1,
    args: (url) => ['--auth', 'required', '--public-url', url, '--oidc-issuer', at.issuer, '--oidc-client-id', 'crucible-test', '--oidc-name', 'Test IdP'],
    env: { [CLIENT_SECRET_ENV]: secret },
  });
  idp = await startIdentityProvider(at, `${server.url}/api/auth/oidc/callback`, {
    alice: { name: 'Alice Liddell', crucible_role: 'researcher', crucible_project: 'alpha' },
    victor: { name: 'Victor Viewer', crucible_role: 'viewer', crucible_project: 'alpha' },
    mallory: { name: 'Mallory' },
  });
  expect(idp.clientSecret).toBe(secret);
}, 120_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    for (const b of browsers) await b.page.screenshot({ path: screenshotPath(`failure-${name}`) }).catch(() => undefined);
  }
});

afterAll(async () => {
  for (const b of browsers) await b.close();
  await server?.stop();
  await idp?.stop();
});

/** The one Chromium of this file, with no cookie of Crucible's or the provider's: a new person at the keyboard. */
async function newBrowser(): Promise<Page> {
  if (browsers.length === 0) browsers.push(await launchBrowser(server.url, [idp.issuer]));
  const page = browsers[0]!.page;
  await page.context().clearCookies();
  return page;
}

/** From Crucible's sign-in page through the provider's login and consent pages, back to Crucible. */
async function signInWithProvider(page: Page, login: string): Promise<void> {
  await page.goto(`${server.url}/`);
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await page.waitForURL((u) => u.href.startsWith(idp.issuer));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((u) => u.href.startsWith(server.url));
}

/** A change sent by the page itself (cookie-authenticated), with the CSRF token as given. */
function postFromPage(page: Page, csrf: 'none' | 'wrong' | 'cookie') {
  return page.evaluate(async (mode) => {
    const token = /(?:^|; )crucible_csrf=([^;]+)/.exec(document.cookie)?.[1];
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (mode === 'wrong') headers['x-csrf-token'] = 'forged-token-from-another-page';
    if (mode === 'cookie' && token) headers['x-csrf-token'] = token;
    const res = await fetch('/api/evaluations', { method: 'POST', headers, body: JSON.stringify({ code: 'print("from the page")' }) });
    return { status: res.status, body: (await res.json()) as { id?: string; error?: { code: string } } };
  }, csrf);
}

describe('web sign-in with OpenID Connect', () => {
  it('signs in through the provider, shows who is signed in, runs a program and lists it', async () => {
    const page = await newBrowser();
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Crucible' }).waitFor();
    await page.getByLabel('API key').waitFor();
    await page.screenshot({ path: screenshotPath('sign-in') });

    await signInWithProvider(page, 'alice');
    const who = page.getByTestId('signed-in-as');
    await who.waitFor();
    expect(await who.textContent()).toMatch(/Alice Liddell\s*researcher · alpha/);

    const cookies = await page.context().cookies(server.url);
    const session = cookies.find((c) => c.name === 'crucible_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });
    expect(cookies.find((c) => c.name === 'crucible_csrf')).toMatchObject({ httpOnly: false });

    const id = await runDraft(page, { code: 'print("signed in with OIDC")\n', memory_mb: 256 }, 60_000);

    await page.goto(`${server.url}/history`);
    await page.getByText(id).first().waitFor();
    const owner = await page.evaluate(async (evId) => (await (await fetch(`/api/evaluations/${evId}`)).json()) as { owner: string; project: string }, id);
    expect(owner).toEqual(expect.objectContaining({ owner: expect.stringMatching(/^oidc:127\.0\.0\.1:\d+:alice$/), project: 'alpha' }));
    await page.screenshot({ path: screenshotPath('signed-in-oidc') });
  }, 120_000);

  it('refuses a cookie-authenticated change without the CSRF token or with a wrong one (403 csrf_failed); the UI sends it', async () => {
    const page = browsers[0]!.page;
    expect(await postFromPage(page, 'none')).toMatchObject({ status: 403, body: { error: { code: 'csrf_failed' } } });
    expect(await postFromPage(page, 'wrong')).toMatchObject({ status: 403, body: { error: { code: 'csrf_failed' } } });
    expect((await postFromPage(page, 'cookie')).status).toBe(202);
  }, 60_000);

  it('signs out: the sign-in page again, and the old session no longer works', async () => {
    const page = browsers[0]!.page;
    await page.goto(`${server.url}/history`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Crucible' }).waitFor();
    expect((await page.context().cookies(server.url)).find((c) => c.name === 'crucible_session')).toBeUndefined();
    expect(await page.evaluate(async () => (await fetch('/api/auth/me')).status)).toBe(401);
  }, 60_000);

  it('honours the role in the claims: a viewer reads but may not submit (403 forbidden)', async () => {
    const page = await newBrowser();
    await signInWithProvider(page, 'victor');
    await page.getByTestId('signed-in-as').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toMatch(/viewer · alpha/);
    expect(await postFromPage(page, 'cookie')).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await page.evaluate(async () => (await fetch('/api/evaluations')).status)).toBe(200);
  }, 90_000);

  it('refuses a person whose claims name no role, saying why', async () => {
    const page = await newBrowser();
    await signInWithProvider(page, 'mallory').catch(() => undefined);
    await page.getByText(/sign_in_failed/).waitFor();
    expect(await page.textContent('body')).toMatch(/claim crucible_role names none of the roles/);
  }, 90_000);
});

describe('web sign-in with an API key', () => {
  it('exchanges the key for a session cookie; the browser keeps no key', async () => {
    const page = await newBrowser();
    await page.goto(`${server.url}/`);
    await page.getByLabel('API key').fill('crk_key_0000000000000000_' + 'A'.repeat(43));
    await page.getByRole('button', { name: 'Sign in with API key' }).click();
    await page.getByTestId('sign-in-error').waitFor();
    expect(await page.getByTestId('sign-in-error').textContent()).toMatch(/unknown API key/);

    await page.getByLabel('API key').fill(browserKey);
    await page.getByRole('button', { name: 'Sign in with API key' }).click();
    await page.getByTestId('signed-in-as').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toMatch(/browser key\s*researcher · beta/);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    expect(stored).not.toContain(browserKey);
    expect(stored).not.toContain(apiKeySecret(browserKey));
    expect((await postFromPage(page, 'cookie')).status).toBe(202);
  }, 90_000);
});
