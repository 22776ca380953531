/**
 * Web sessions over the API (auth required, no identity provider): an API key is exchanged for
 * an HttpOnly, SameSite=Lax session cookie; cookie-authenticated changes need the CSRF token
 * (403 csrf_failed without it or with a wrong one), Bearer requests do not; the role of the key
 * is honoured; signing out, revoking the key and restarting the server behave as a user expects.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS_ACTOR, type CreatedApiKey, type Role } from '../../src/domain/access.js';
import type { AuditPage } from '../../src/domain/audit.js';
import type { AuthConfig, WhoAmI } from '../../src/domain/web-session.js';
import { api, startTestServer, tempDir } from '../helpers/server.js';

type ErrorAnswer = { error: { code: string; message: string } };

/** The cookies a response sets, by name: value and attributes. */
function setCookies(headers: Headers): Map<string, { value: string; attributes: string[] }> {
  const out = new Map<string, { value: string; attributes: string[] }>();
  for (const line of headers.getSetCookie()) {
    const [pair, ...attributes] = line.split(';').map((p) => p.trim());
    const eq = pair!.indexOf('=');
    out.set(pair!.slice(0, eq), { value: pair!.slice(eq + 1), attributes });
  }
  return out;
}

describe('web sign-in with an API key, session cookie and CSRF', () => {
  const dataDir = tempDir();
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const keys: Record<string, CreatedApiKey> = {};

  /** Signs in with a key as a browser would; answers the Cookie header to send and the CSRF token. */
  async function signIn(who: string): Promise<{ cookie: string; csrf: string; me: WhoAmI }> {
    const res = await api<WhoAmI>(server.url, 'POST', '/api/auth/key-sign-in', { key: keys[who]!.key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const cookies = setCookies(res.headers);
    const session = cookies.get('crucible_session')!;
    const csrf = cookies.get('crucible_csrf')!;
    return { cookie: `crucible_session=${session.value}; crucible_csrf=${csrf.value}`, csrf: csrf.value, me: res.body };
  }

  beforeAll(async () => {
    server = await startTestServer({ workers: 0, auth: 'required', dataDir });
    const make = async (name: string, role: Role, project: string) => {
      keys[name] = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name, role, project });
    };
    await make('admin', 'admin', 'ops');
    await make('alice', 'researcher', 'alpha');
    await make('victor', 'viewer', 'alpha');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('says how to sign in without credentials, and who is calling only with them', async () => {
    const config = await api<AuthConfig>(server.url, 'GET', '/api/auth/config');
    expect(config.body).toEqual({ mode: 'required', oidc: null, key_sign_in: true });
    const anonymous = await api<ErrorAnswer>(server.url, 'GET', '/api/auth/me');
    expect(anonymous.status).toBe(401);
    const viaKey = await api<WhoAmI>(server.url, 'GET', '/api/auth/me', undefined, { authorization: `Bearer ${keys.alice!.key}` });
    expect(viaKey.body).toMatchObject({ id: keys.alice!.id, role: 'researcher', project: 'alpha', via: 'key' });
  });

  it('exchanges a key for an HttpOnly SameSite=Lax cookie (not Secure over http) and a readable CSRF cookie', async () => {
    const res = await api<WhoAmI>(server.url, 'POST', '/api/auth/key-sign-in', { key: keys.alice!.key });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: keys.alice!.id, name: 'alice', role: 'researcher', project: 'alpha', via: 'session', method: 'key' });
    expect(JSON.stringify(res.body)).not.toContain(keys.alice!.key);
    const cookies = setCookies(res.headers);
    const session = cookies.get('crucible_session')!;
    expect(session.value).toMatch(/^cws_/);
    expect(session.attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Lax', 'Path=/']));
    expect(session.attributes).not.toContain('Secure');
    const csrf = cookies.get('crucible_csrf')!;
    expect(csrf.attributes).not.toContain('HttpOnly');
    expect(csrf.attributes).toContain('SameSite=Lax');
  });

  it('a wrong key is refused with 401 and audited as a denied sign-in', async () => {
    const bad = await api<ErrorAnswer>(server.url, 'POST', '/api/auth/key-sign-in', { key: 'crk_key_0000000000000000_' + 'A'.repeat(43) });
    expect(bad.status).toBe(401);
    expect(bad.headers.getSetCookie()).toEqual([]);
    const audit = await api<AuditPage>(server.url, 'GET', '/api/audit?action=auth.sign_in&outcome=denied', undefined, {
      authorization: `Bearer ${keys.admin!.key}`,
    });
    expect(audit.body.items.length).toBeGreaterThan(0);
  });

  it('cookie-authenticated changes need the CSRF token: none or a wrong one is 403 csrf_failed; reads and Bearer requests need none', async () => {
    const alice = await signIn('alice');
    const submit = (headers: Record<string, string>) =>
      api<ErrorAnswer & { id: string }>(server.url, 'POST', '/api/evaluations', { code: 'print(1)' }, headers);

    const without = await submit({ cookie: alice.cookie });
    expect(without.status).toBe(403);
    expect(without.body.error.code).toBe('csrf_failed');
    const wrong = await submit({ cookie: alice.cookie, 'x-csrf-token': 'A'.repeat(alice.csrf.length) });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('csrf_failed');
    // Another session's token does not fit this session.
    const other = await signIn('alice');
    expect((await submit({ cookie: alice.cookie, 'x-csrf-token': other.csrf })).body.error.code).toBe('csrf_failed');

    const ok = await submit({ cookie: alice.cookie, 'x-csrf-token': alice.csrf });
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    const read = await api<{ owner: string; project: string }>(server.url, 'GET', `/api/evaluations/${ok.body.id}`, undefined, { cookie: alice.cookie });
    expect(read.body).toMatchObject({ owner: keys.alice!.id, project: 'alpha' });
    const bearer = await submit({ authorization: `Bearer ${keys.alice!.key}` });
    expect(bearer.status).toBe(202);
  });

  it("honours the key's role: a viewer's session reads but may not submit (403 forbidden)", async () => {
    const victor = await signIn('victor');
    expect(victor.me.role).toBe('viewer');
    const refused = await api<ErrorAnswer>(
      server.url,
      'POST',
      '/api/evaluations',
      { code: 'print(1)' },
      { cookie: victor.cookie, 'x-csrf-token': victor.csrf },
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect((await api(server.url, 'GET', '/api/evaluations', undefined, { cookie: victor.cookie })).status).toBe(200);
  });

  it('signing out ends the session at once; sign-out itself needs the CSRF token', async () => {
    const alice = await signIn('alice');
    const noToken = await api<ErrorAnswer>(server.url, 'POST', '/api/auth/sign-out', undefined, { cookie: alice.cookie });
    expect(noToken.body.error.code).toBe('csrf_failed');
    const out = await api<{ signed_out: boolean }>(server.url, 'POST', '/api/auth/sign-out', undefined, { cookie: alice.cookie, 'x-csrf-token': alice.csrf });
    expect(out.body).toEqual({ signed_out: true });
    expect(setCookies(out.headers).get('crucible_session')!.attributes).toContain('Max-Age=0');
    const after = await api<ErrorAnswer>(server.url, 'GET', '/api/auth/me', undefined, { cookie: alice.cookie });
    expect(after.status).toBe(401);
    expect(after.body.error.message).toMatch(/sign in again/);
  });

  it('a session opened with a key ends when the key is revoked', async () => {
    const temp = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name: 'temp', role: 'researcher', project: 'alpha' });
    keys.temp = temp;
    const session = await signIn('temp');
    expect((await api(server.url, 'GET', '/api/auth/me', undefined, { cookie: session.cookie })).status).toBe(200);
    await server.platform.access.revokeKey(ANONYMOUS_ACTOR, temp.id);
    expect((await api(server.url, 'GET', '/api/auth/me', undefined, { cookie: session.cookie })).status).toBe(401);
  });

  it('sessions are stored (hashed), so they survive a restart', async () => {
    const alice = await signIn('alice');
    const secret = /crucible_session=([^;]+)/.exec(alice.cookie)![1]!;
    expect(await server.platform.storage.webSessions.get(createHash('sha256').update(secret).digest('hex'))).toMatchObject({
      actor: keys.alice!.id,
      method: 'key',
    });
    await server.stop();
    server = await startTestServer({ workers: 0, auth: 'required', dataDir });
    const me = await api<WhoAmI>(server.url, 'GET', '/api/auth/me', undefined, { cookie: alice.cookie });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: keys.alice!.id, via: 'session' });
  }, 60_000);
});

describe('web session cookies under HTTPS', () => {
  it('are Secure when the public URL is https', async () => {
    const server = await startTestServer({ workers: 0, auth: 'required', publicUrl: 'https://crucible.example.com' });
    try {
      const key = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name: 'k', role: 'viewer', project: 'alpha' });
      const res = await api(server.url, 'POST', '/api/auth/key-sign-in', { key: key.key });
      const cookies = setCookies(res.headers);
      expect(cookies.get('crucible_session')!.attributes).toContain('Secure');
      expect(cookies.get('crucible_csrf')!.attributes).toContain('Secure');
    } finally {
      await server.stop();
    }
  }, 60_000);
});
