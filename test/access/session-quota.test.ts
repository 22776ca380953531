/**
 * Sessions count against their project's `max_sessions` quota (real sandbox sessions, auth
 * required): the (N+1)th open session of a project is refused with 429 quota_exceeded naming the
 * quota, another project is not affected, and ending a session frees its place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS_ACTOR, type CreatedApiKey, type Role } from '../../src/domain/access.js';
import type { Session } from '../../src/domain/session.js';
import { api, startTestServer } from '../helpers/server.js';

type ErrorAnswer = { error: { code: string; message: string; details?: { quota?: string } } };

describe('session quota (max_sessions)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const keys: Record<string, CreatedApiKey> = {};
  const as = (who: string) => ({ authorization: `Bearer ${keys[who]!.key}` });
  const open = (who: string) => api<Session & ErrorAnswer>(server.url, 'POST', '/api/sessions', { idle_timeout_s: 60 }, as(who));
  const end = (who: string, id: string) => api<Session>(server.url, 'DELETE', `/api/sessions/${id}`, undefined, as(who));

  beforeAll(async () => {
    server = await startTestServer({ workers: 1, auth: 'required' });
    const make = async (name: string, role: Role, project: string) => {
      keys[name] = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name, role, project });
    };
    await make('admin', 'admin', 'ops');
    await make('alpha', 'researcher', 'alpha');
    await make('beta', 'researcher', 'beta');
  }, 60_000);
  afterAll(async () => server?.stop());

  it('refuses the third open session of a project capped at two; another project and a freed place are unaffected', async () => {
    expect((await api(server.url, 'PUT', '/api/projects/alpha/quota', { max_sessions: 2 }, as('admin'))).status).toBe(200);
    const first = await open('alpha');
    const second = await open('alpha');
    expect([first.status, second.status], JSON.stringify([first.body, second.body])).toEqual([201, 201]);
    const usage = await api<{ usage: { sessions: number } }>(server.url, 'GET', '/api/projects/alpha/quota', undefined, as('alpha'));
    expect(usage.body.usage.sessions).toBe(2);

    const third = await open('alpha');
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('quota_exceeded');
    expect(third.body.error.details?.quota).toBe('max_sessions');
    expect(third.body.error.message).toMatch(/project alpha has 2 sessions open, at most 2/);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    // Nothing was started for the refused one.
    const listed = await api<{ items: Session[] }>(server.url, 'GET', '/api/sessions?status=ready', undefined, as('alpha'));
    expect(listed.body.items.map((s) => s.id).sort()).toEqual([first.body.id, second.body.id].sort());

    const beta = await open('beta');
    expect(beta.status, JSON.stringify(beta.body)).toBe(201);

    expect((await end('alpha', first.body.id)).status).toBe(200);
    const again = await open('alpha');
    expect(again.status, JSON.stringify(again.body)).toBe(201);

    for (const [who, id] of [
      ['alpha', second.body.id],
      ['alpha', again.body.id],
      ['beta', beta.body.id],
    ] as const)
      await end(who, id);
  }, 120_000);
});
