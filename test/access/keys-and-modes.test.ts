/** Auth modes, API keys (create, use, list, revoke, expire), 401/403 and log redaction. */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessControl } from '../../src/app/access.js';
import { ANONYMOUS_ACTOR, isLoopbackHost, type ApiKeyInfo, type CreatedApiKey } from '../../src/domain/access.js';
import { resolveAuthMode, resolveConfig } from '../../src/main/config.js';
import { createLogger } from '../../src/main/logger.js';
import { startServer } from '../../src/main/roles.js';
import { api, startTestServer, tempDir } from '../helpers/server.js';
import { apiKeySecret } from '../helpers/api-keys.js';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('auth modes', () => {
  it('tells loopback addresses from reachable ones', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', 'example.com']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('defaults to off on loopback and required elsewhere; refuses auth off on a reachable address unless accepted', () => {
    expect(resolveAuthMode({ allowUnauthenticated: false }, '127.0.0.1')).toBe('off');
    expect(resolveAuthMode({ allowUnauthenticated: false }, '0.0.0.0')).toBe('required');
    expect(resolveAuthMode({ auth: 'required', allowUnauthenticated: false }, '127.0.0.1')).toBe('required');
    expect(() => resolveAuthMode({ auth: 'off', allowUnauthenticated: false }, '0.0.0.0')).toThrow(/--auth required.*--allow-unauthenticated/s);
    expect(resolveAuthMode({ auth: 'off', allowUnauthenticated: true }, '0.0.0.0')).toBe('off');
  });

  it('a server asked for 0.0.0.0 with auth off refuses to start, before opening anything', async () => {
    const config = resolveConfig({ dataDir: tempDir(), logLevel: 'silent', workers: 0, sandboxes: ['bubblewrap'], auth: 'off' });
    await expect(startServer(config, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 with auth off/);
  });

  it('auth off (the loopback default): no key needed, as before', async () => {
    const server = await startTestServer({ workers: 0 });
    try {
      expect((await api(server.url, 'GET', '/api/evaluations')).status).toBe(200);
      expect((await api(server.url, 'GET', '/api/keys')).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('API keys with auth required', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let admin: CreatedApiKey;
  beforeAll(async () => {
    server = await startTestServer({ workers: 0, auth: 'required' });
    admin = await server.platform.access.createKey({ ...ANONYMOUS_ACTOR, id: 'bootstrap' }, { name: 'root', role: 'admin' });
  });
  afterAll(async () => server?.stop());

  it('keys are high-entropy, stored only as a hash, and shown once', async () => {
    expect(admin.key).toMatch(/^crk_key_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    const stored = await server.platform.storage.apiKeys.get(admin.id);
    expect(stored!.secret_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(apiKeySecret(admin.key));
    const listed = await api<{ keys: ApiKeyInfo[] }>(server.url, 'GET', '/api/keys', undefined, bearer(admin.key));
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(admin.key);
    expect(listed.body.keys.find((k) => k.id === admin.id)).toMatchObject({ name: 'root', role: 'admin', project: 'default', revoked_at: null });
  });

  it('answers 401 unauthenticated with WWW-Authenticate for missing, malformed and unknown keys; probes and docs stay open', async () => {
    const fake = `crk_key_0000000000000000_${'A'.repeat(43)}`;
    for (const headers of [{}, { authorization: 'Basic abc' }, bearer('nonsense'), bearer(fake), bearer(`${admin.key.slice(0, -1)}x`)]) {
      const r = await api<{ error: { code: string } }>(server.url, 'GET', '/api/evaluations', undefined, headers);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthenticated');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await api(server.url, 'GET', '/healthz')).status).toBe(200);
    expect((await api(server.url, 'GET', '/readyz')).status).toBe(200);
    expect((await api(server.url, 'GET', '/docs/json')).status).toBe(200);
  });

  it('admins create, list and revoke keys over the API; a revoked key stops working at once; others get 403', async () => {
    const created = await api<CreatedApiKey>(
      server.url,
      'POST',
      '/api/keys',
      { name: 'alice', role: 'viewer', project: 'alpha', expires_in_days: 30 },
      bearer(admin.key),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'alice', role: 'viewer', project: 'alpha', revoked_at: null });
    expect(Date.parse(created.body.expires_at!)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const viewer = created.body.key;
    expect((await api(server.url, 'GET', '/api/evaluations', undefined, bearer(viewer))).status).toBe(200);
    for (const [method, path, body] of [
      ['GET', '/api/keys'],
      ['POST', '/api/keys', { name: 'x', role: 'admin' }],
      ['DELETE', `/api/keys/${admin.id}`],
    ] as const) {
      const r = await api<{ error: { code: string } }>(server.url, method, path, body, bearer(viewer));
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    const revoked = await api<ApiKeyInfo>(server.url, 'DELETE', `/api/keys/${created.body.id}`, undefined, bearer(admin.key));
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).not.toBeNull();
    expect(JSON.stringify(revoked.body)).not.toContain(viewer);
    expect((await api(server.url, 'GET', '/api/evaluations', undefined, bearer(viewer))).status).toBe(401);
    expect((await api(server.url, 'DELETE', '/api/keys/key_zzzzzzzzzzzzzzzz', undefined, bearer(admin.key))).status).toBe(404);
  });

  it('an expired key is refused', async () => {
    const access = new AccessControl(server.platform.storage.apiKeys, { mode: 'required', now: () => Date.now() - 2 * 86_400_000 });
    const old = await access.createKey(ANONYMOUS_ACTOR, { name: 'old', role: 'admin', expires_in_days: 1 });
    const r = await api<{ error: { code: string; message: string } }>(server.url, 'GET', '/api/evaluations', undefined, bearer(old.key));
    expect(r.status).toBe(401);
    expect(r.body.error.message).toMatch(/expired/);
  });

  it('records when a key was last used', async () => {
    await api(server.url, 'GET', '/api/queue', undefined, bearer(admin.key));
    expect((await server.platform.storage.apiKeys.get(admin.id))!.last_used_at).not.toBeNull();
  });
});

describe('log redaction', () => {
  it('never writes an Authorization header or cookie to the log', () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString();
        done();
      },
    });
    const log = createLogger('info', 'test', sink);
    const secret = 'crk_key_aaaaaaaaaaaaaaaa_SECRETSECRET';
    log.info({ req: { headers: { authorization: `Bearer ${secret}`, cookie: 'c=1' } } }, 'request');
    log.info({ headers: { authorization: `Bearer ${secret}` } }, 'headers');
    log.info({ authorization: `Bearer ${secret}` }, 'bare');
    expect(out).not.toContain(secret);
    expect(out).not.toContain('c=1');
    expect(out.match(/\[redacted\]/g)!.length).toBeGreaterThanOrEqual(4);
  });
});

describe('failed authentications are rate-limited per address', () => {
  it('answers 429 rate_limited with Retry-After after too many failures, even for a valid key, and audits it', async () => {
    const server = await startTestServer({ workers: 0, auth: 'required', authFailuresPerMinute: 3 });
    try {
      const admin = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name: 'root', role: 'admin' });
      for (let i = 0; i < 3; i++) expect((await api(server.url, 'GET', '/api/queue', undefined, bearer('wrong'))).status).toBe(401);
      const limited = await api<{ error: { code: string } }>(server.url, 'GET', '/api/queue', undefined, bearer(admin.key));
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await api(server.url, 'GET', '/healthz')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
      const refused = (await server.platform.audit.list(ANONYMOUS_ACTOR, { limit: 100, action: 'auth.refused' })).items;
      expect(refused.map((e) => e.detail.status)).toEqual([401, 401, 401, 429]);
    } finally {
      await server.stop();
    }
  });
});
