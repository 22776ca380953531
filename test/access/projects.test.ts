/** Roles and projects: what each caller may see and do with evaluations, their output, events and the feed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS_ACTOR, type CreatedApiKey, type Role } from '../../src/domain/access.js';
import type { Evaluation, EvaluationList } from '../../src/domain/evaluation.js';
import { api, startTestServer } from '../helpers/server.js';

/** Reads an SSE response as text until `stop` matches or the time runs out. */
export async function sseText(url: string, headers: Record<string, string>, stop: RegExp, timeoutMs = 3_000): Promise<{ status: number; text: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let text = '';
  try {
    const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal: abort.signal });
    if (res.status !== 200 || !res.body) return { status: res.status, text: await res.text() };
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if (stop.test(text)) break;
    }
    return { status: res.status, text };
  } catch {
    return { status: 200, text };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

describe('roles and projects (auth required)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const keys: Record<string, CreatedApiKey> = {};
  const as = (who: string) => ({ authorization: `Bearer ${keys[who]!.key}` });
  let mine: Evaluation;

  beforeAll(async () => {
    server = await startTestServer({ workers: 0, auth: 'required' });
    const make = async (name: string, role: Role, project: string) => {
      keys[name] = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name, role, project });
    };
    await make('admin', 'admin', 'ops');
    await make('r1', 'researcher', 'alpha');
    await make('r2', 'researcher', 'alpha');
    await make('rb', 'researcher', 'beta');
    await make('va', 'viewer', 'alpha');
    const r = await api<Evaluation>(server.url, 'POST', '/api/evaluations', { code: 'print(1)' }, as('r1'));
    expect(r.status).toBe(202);
    mine = r.body;
  });
  afterAll(async () => server?.stop());

  it('records owner and project on the evaluation', () => {
    expect(mine).toMatchObject({ owner: keys.r1!.id, project: 'alpha' });
  });

  it('another project’s evaluation does not exist: 404 for it, its output and events; lists omit it', async () => {
    for (const path of [
      `/api/evaluations/${mine.id}`,
      `/api/evaluations/${mine.id}/stdout`,
      `/api/evaluations/${mine.id}/stderr`,
      `/api/evaluations/${mine.id}/events`,
    ]) {
      const r = await api<{ error: { code: string } }>(server.url, 'GET', path, undefined, as('rb'));
      expect(r.status, path).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await api(server.url, 'POST', `/api/evaluations/${mine.id}/cancel`, undefined, as('rb'))).status).toBe(404);
    const list = await api<EvaluationList>(server.url, 'GET', '/api/evaluations', undefined, as('rb'));
    expect(list.body.items.map((e) => e.id)).not.toContain(mine.id);
    // Asking for another project explicitly does not widen a non-admin's view.
    const asked = await api<EvaluationList>(server.url, 'GET', '/api/evaluations?project=alpha', undefined, as('rb'));
    expect(asked.body.items).toEqual([]);
  });

  it('the same project reads it; admins see every project and may filter by one', async () => {
    for (const who of ['r2', 'va', 'admin']) {
      expect((await api(server.url, 'GET', `/api/evaluations/${mine.id}`, undefined, as(who))).status, who).toBe(200);
      const list = await api<EvaluationList>(server.url, 'GET', '/api/evaluations', undefined, as(who));
      expect(
        list.body.items.map((e) => e.id),
        who,
      ).toContain(mine.id);
    }
    expect((await api<EvaluationList>(server.url, 'GET', '/api/evaluations?project=beta', undefined, as('admin'))).body.items).toEqual([]);
    expect((await api<EvaluationList>(server.url, 'GET', '/api/evaluations?project=alpha', undefined, as('admin'))).body.items.map((e) => e.id)).toContain(
      mine.id,
    );
  });

  it("queue and stats show a non-admin only their project's numbers; admins every project's", async () => {
    type Queue = { project: string | null; counts: Record<string, number>; depth: number; oldest_queued_at: string | null };
    const queueAs = async (who: string) => (await api<Queue>(server.url, 'GET', '/api/queue', undefined, as(who))).body;
    const beta = await queueAs('rb');
    expect(beta).toMatchObject({ project: 'beta', depth: 0, oldest_queued_at: null });
    expect(beta.counts.queued).toBe(0);
    const alpha = await queueAs('va');
    expect(alpha.project).toBe('alpha');
    expect(alpha.counts.queued).toBeGreaterThanOrEqual(1);
    expect(alpha.depth).toBe(alpha.counts.queued);
    const everyone = await queueAs('admin');
    expect(everyone.project).toBeNull();
    expect(everyone.counts.queued).toBeGreaterThanOrEqual(alpha.counts.queued!);
    const stats = await api<{ project: string | null }>(server.url, 'GET', '/api/stats', undefined, as('rb'));
    expect(stats.status).toBe(200);
    expect(stats.body.project).toBe('beta');
    expect((await api<{ project: string | null }>(server.url, 'GET', '/api/stats', undefined, as('admin'))).body.project).toBeNull();
  });

  it('viewers may not submit; only the owner or an admin may cancel', async () => {
    const v = await api<{ error: { code: string } }>(server.url, 'POST', '/api/evaluations', { code: 'print(1)' }, as('va'));
    expect(v.status).toBe(403);
    expect(v.body.error.code).toBe('forbidden');
    expect((await api(server.url, 'POST', '/api/evaluations/batch', { evaluations: [{ code: 'print(1)' }] }, as('va'))).status).toBe(403);
    expect((await api(server.url, 'POST', `/api/evaluations/${mine.id}/cancel`, undefined, as('va'))).status).toBe(403);
    expect((await api(server.url, 'POST', `/api/evaluations/${mine.id}/cancel`, undefined, as('r2'))).status).toBe(403);
    const own = await api<Evaluation>(server.url, 'POST', '/api/evaluations', { code: 'print(2)' }, as('r1'));
    const cancelled = await api<Evaluation>(server.url, 'POST', `/api/evaluations/${own.body.id}/cancel`, undefined, as('r1'));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
  });

  it('the global feed carries only the caller’s project (replayed and live)', async () => {
    const from = '1.a.0';
    const beta = await sseText(`${server.url}/api/events?after=${from}`, as('rb'), /event: ready/);
    expect(beta.status).toBe(200);
    expect(beta.text).toMatch(/event: ready/);
    expect(beta.text).not.toContain(mine.id);
    const alpha = await sseText(`${server.url}/api/events?after=${from}`, as('va'), /event: ready/);
    expect(alpha.text).toContain(mine.id);
    // Live: a change in alpha is not sent to beta.
    const watching = sseText(`${server.url}/api/events`, as('rb'), /ev_/, 1_500);
    await new Promise((r) => setTimeout(r, 300));
    await api(server.url, 'POST', '/api/evaluations', { code: 'print(3)' }, as('r1'));
    expect((await watching).text).not.toMatch(/event: status/);
    expect((await sseText(`${server.url}/api/events`, {}, /x/)).status).toBe(401);
  });
});
