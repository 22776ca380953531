/**
 * The access matrix: every route of the OpenAPI document (/docs/json) × every kind of caller,
 * against an explicit table of what each may do. A route added without an entry here fails this
 * test, so no route ships without its access being decided.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessControl } from '../../src/app/access.js';
import { ANONYMOUS_ACTOR, type CreatedApiKey, type Role } from '../../src/domain/access.js';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { api, startTestServer } from '../helpers/server.js';

const CALLERS = ['none', 'malformed', 'unknown', 'expired', 'revoked', 'viewer', 'researcherOther', 'researcherSame', 'admin'] as const;
type Caller = (typeof CALLERS)[number];
type Keyed = 'viewer' | 'researcherOther' | 'researcherSame' | 'admin';

/** Expected status per caller with a valid key; without one (or a bad one) every /api route is 401. */
type Row = { open: true; status: number } | { open?: false; expect: Record<Keyed, number> };
const all = (status: number): Row => ({ expect: { viewer: status, researcherOther: status, researcherSame: status, admin: status } });
const adminOnly = (status: number): Row => ({ expect: { viewer: 403, researcherOther: 403, researcherSame: 403, admin: status } });
/** The evaluation under test belongs to researcherSame, in the viewer's project; researcherOther is in another project. */
const readOwnProject: Row = { expect: { viewer: 200, researcherOther: 404, researcherSame: 200, admin: 200 } };

export const ACCESS_TABLE: Record<string, Row> = {
  'POST /api/evaluations': { expect: { viewer: 403, researcherOther: 202, researcherSame: 202, admin: 202 } },
  'POST /api/evaluations/batch': { expect: { viewer: 403, researcherOther: 202, researcherSame: 202, admin: 202 } },
  'GET /api/evaluations': all(200),
  'GET /api/evaluations/summary': all(200),
  'GET /api/evaluations/{id}': readOwnProject,
  'GET /api/evaluations/{id}/stdout': readOwnProject,
  'GET /api/evaluations/{id}/stderr': readOwnProject,
  'GET /api/evaluations/{id}/events': readOwnProject,
  'GET /api/evaluations/{id}/artifacts': readOwnProject,
  // No worker here, so no artifact: those who may see the evaluation get artifact_not_found, the others not_found
  // (test/api/files-and-artifacts.test.ts reads real artifacts across projects).
  'GET /api/evaluations/{id}/artifacts/{*}': all(404),
  'POST /api/evaluations/{id}/cancel': { expect: { viewer: 403, researcherOther: 404, researcherSame: 200, admin: 200 } },
  'GET /api/events': all(200),
  'GET /api/queue': all(200),
  'GET /api/workers': all(200),
  'GET /api/stats': all(200),
  'GET /api/config': all(200),
  'POST /api/syntax-check': all(200),
  'GET /healthz': { open: true, status: 200 },
  'GET /readyz': { open: true, status: 200 },
  'POST /api/keys': adminOnly(201),
  'GET /api/keys': adminOnly(200),
  'DELETE /api/keys/{id}': adminOnly(200),
  'GET /api/audit': adminOnly(200),
  'GET /api/audit/verify': adminOnly(200),
  // What environments exist and what they contain is the same for everyone who may use the API.
  'GET /api/environments': all(200),
  'GET /api/environments/{name}': all(200),
  'GET /api/environments/{name}/sbom': all(200),
  'GET /api/projects/{project}/quota': readOwnProject,
  'PUT /api/projects/{project}/quota': adminOnly(200),
  'POST /api/sessions': { expect: { viewer: 403, researcherOther: 201, researcherSame: 201, admin: 201 } },
  'GET /api/sessions': all(200),
  'GET /api/sessions/{id}': readOwnProject,
  'GET /api/sessions/{id}/events': readOwnProject,
  'GET /api/sessions/{id}/files': readOwnProject,
  'PUT /api/sessions/{id}/files': { expect: { viewer: 403, researcherOther: 404, researcherSame: 200, admin: 200 } },
  'POST /api/sessions/{id}/exec': { expect: { viewer: 403, researcherOther: 404, researcherSame: 200, admin: 200 } },
  'DELETE /api/sessions/{id}': { expect: { viewer: 403, researcherOther: 404, researcherSame: 200, admin: 200 } },
  // Signing in needs no caller: how to sign in is public, and the key in the body (unknown here) decides.
  'GET /api/auth/config': { open: true, status: 200 },
  'POST /api/auth/key-sign-in': { open: true, status: 401 },
  // No identity provider is configured on this server.
  'GET /api/auth/oidc/login': { open: true, status: 404 },
  'GET /api/auth/oidc/callback': { open: true, status: 404 },
  'GET /api/auth/me': all(200),
  'POST /api/auth/sign-out': all(200),
};

const BODIES: Record<string, unknown> = {
  'POST /api/evaluations': { code: 'print(1)' },
  'POST /api/evaluations/batch': { evaluations: [{ code: 'print(1)' }] },
  'POST /api/syntax-check': { code: 'x = 1' },
  'POST /api/keys': { name: 'made in the matrix', role: 'viewer' },
  'PUT /api/projects/{project}/quota': { max_queued: 10_000 },
  'POST /api/sessions': { idle_timeout_s: 30 },
  'POST /api/sessions/{id}/exec': { cmd: ['true'] },
  'PUT /api/sessions/{id}/files': 'content',
  'POST /api/auth/key-sign-in': { key: `crk_key_0000000000000000_${'B'.repeat(43)}` },
};

describe('access matrix from the OpenAPI document (auth required)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let routes: string[] = [];
  const keys = {} as Record<Keyed | 'expired' | 'revoked', CreatedApiKey>;

  beforeAll(async () => {
    // Far more failed authentications than the per-address limit allows: all from 127.0.0.1.
    server = await startTestServer({ workers: 1, sandboxes: ['bubblewrap'], auth: 'required', authFailuresPerMinute: 10_000 });
    const make = (role: Role, project: string) => server.platform.access.createKey(ANONYMOUS_ACTOR, { name: `${role}@${project}`, role, project });
    keys.viewer = await make('viewer', 'alpha');
    keys.researcherOther = await make('researcher', 'beta');
    keys.researcherSame = await make('researcher', 'alpha');
    keys.admin = await make('admin', 'ops');
    keys.revoked = await make('admin', 'ops');
    await server.platform.access.revokeKey(ANONYMOUS_ACTOR, keys.revoked.id);
    const past = new AccessControl(server.platform.storage.apiKeys, { mode: 'required', now: () => Date.now() - 3 * 86_400_000 });
    keys.expired = await past.createKey(ANONYMOUS_ACTOR, { name: 'expired', role: 'admin', project: 'ops', expires_in_days: 1 });
    const doc = (await (await fetch(`${server.url}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  });
  afterAll(async () => server?.stop());

  const header = (caller: Caller): Record<string, string> => {
    switch (caller) {
      case 'none':
        return {};
      case 'malformed':
        return { authorization: 'Bearer not-a-key' };
      case 'unknown':
        return { authorization: `Bearer crk_key_0000000000000000_${'A'.repeat(43)}` };
      default:
        return { authorization: `Bearer ${keys[caller].key}` };
    }
  };

  /** Fills the path's {project} (the viewer's and researcherSame's) and {id}: a fresh evaluation of researcherSame, or a fresh key. */
  async function concretePath(path: string): Promise<string> {
    if (path.includes('{project}')) return path.replace('{project}', 'alpha');
    if (path.includes('{name}')) return path.replace('{name}', 'python');
    if (!path.includes('{id}')) return path;
    if (path.startsWith('/api/keys/')) {
      const victim = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name: 'victim', role: 'viewer' });
      return path.replace('{id}', victim.id);
    }
    if (path.startsWith('/api/sessions/')) {
      // A fresh session of researcherSame holding the file the file routes name.
      const created = await api<{ id: string }>(server.url, 'POST', '/api/sessions', { idle_timeout_s: 30 }, header('researcherSame'));
      expect(created.status).toBe(201);
      const put = await fetch(`${server.url}/api/sessions/${created.body.id}/files?path=m.txt`, {
        method: 'PUT',
        body: 'x',
        headers: header('researcherSame'),
      });
      expect(put.status).toBe(200);
      return path.replace('{id}', created.body.id) + (path.endsWith('/files') ? '?path=m.txt' : '');
    }
    const r = await api<Evaluation>(server.url, 'POST', '/api/evaluations', { code: 'print(1)' }, header('researcherSame'));
    expect(r.status).toBe(202);
    return path.replace('{id}', r.body.id);
  }

  /** The status of one request; event streams are closed as soon as their headers arrive. */
  async function statusOf(method: string, path: string, caller: Caller): Promise<number> {
    const body = BODIES[`${method} ${path}`];
    const url = `${server.url}${await concretePath(path)}`;
    const abort = new AbortController();
    const res = await fetch(url, {
      method,
      headers: { ...header(caller), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: abort.signal,
    });
    if (res.status === 401) expect(res.headers.get('www-authenticate'), `${method} ${path} as ${caller}`).toMatch(/^Bearer/);
    abort.abort();
    return res.status;
  }

  it('every route in the OpenAPI document has a decided access row, and every row a route', () => {
    expect(routes.length).toBeGreaterThan(10);
    expect(
      routes.filter((r) => !(r in ACCESS_TABLE)),
      'routes without an access decision',
    ).toEqual([]);
    expect(
      Object.keys(ACCESS_TABLE).filter((r) => !routes.includes(r)),
      'rows for routes that do not exist',
    ).toEqual([]);
  });

  it('every route × every caller answers as the table says', async () => {
    const mismatches: string[] = [];
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      const row = ACCESS_TABLE[route];
      if (!row) continue;
      for (const caller of CALLERS) {
        const expected = row.open ? row.status : caller in row.expect ? row.expect[caller as Keyed] : 401;
        const actual = await statusOf(method, path, caller);
        if (actual !== expected) mismatches.push(`${route} as ${caller}: expected ${expected}, got ${actual}`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);
});
