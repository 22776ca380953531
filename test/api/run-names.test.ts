/** An evaluation's optional name and code title (accepted, bounded, returned, searchable); the list's metadata filter and total. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_BOUNDS } from '../../src/domain/limits.js';
import { api, startTestServer } from '../helpers/server.js';

type ErrorBody = { error: { code: string; message: string } };
type Ev = { id: string; name: string | null; code_title: string | null };

describe('evaluation names', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer({ workers: 0 });
  });
  afterAll(async () => server?.stop());

  it('returns the name and the first meaningful line of code, in the record and in the list', async () => {
    const named = await api<Ev>(server.url, 'POST', '/api/evaluations', { code: 'import os\n# setup\nprint(os.getpid())\n', name: '  Baseline run  ' });
    expect(named.status).toBe(202);
    expect(named.body).toMatchObject({ name: 'Baseline run', code_title: 'print(os.getpid())' });
    const unnamed = await api<Ev>(server.url, 'POST', '/api/evaluations', { code: '\n\nanswer = 42\n' });
    expect(unnamed.body).toMatchObject({ name: null, code_title: 'answer = 42' });

    const got = await api<Ev>(server.url, 'GET', `/api/evaluations/${named.body.id}`);
    expect(got.body).toMatchObject({ name: 'Baseline run', code_title: 'print(os.getpid())' });
    const list = await api<{ items: Ev[] }>(server.url, 'GET', '/api/evaluations?q=baseline');
    expect(list.body.items.map((i) => i.id)).toEqual([named.body.id]);
    expect(list.body.items[0]).toMatchObject({ name: 'Baseline run', code_title: 'print(os.getpid())' });
  });

  it('filters the list by metadata values with meta=key=value and says how many match in all', async () => {
    const tagged = await api<Ev>(server.url, 'POST', '/api/evaluations', { code: 'print(1)', metadata: { model: 'gpt-4o', task: 12 } });
    await api<Ev>(server.url, 'POST', '/api/evaluations', { code: 'print(2)', metadata: { model: 'other' } });
    const r = await api<{ items: Ev[]; total: number; total_capped: boolean }>(server.url, 'GET', '/api/evaluations?meta=model=gpt-4o,task=12&limit=1');
    expect(r.status).toBe(200);
    expect(r.body.items.map((i) => i.id)).toEqual([tagged.body.id]);
    expect(r.body).toMatchObject({ total: 1, total_capped: false });
    const all = await api<{ items: Ev[]; total: number }>(server.url, 'GET', '/api/evaluations?limit=1');
    expect(all.body.items).toHaveLength(1);
    expect(all.body.total).toBeGreaterThan(1);
    for (const bad of ['model', '=x', 'a.b=1', 'we ird=1']) {
      const e = await api<ErrorBody>(server.url, 'GET', `/api/evaluations?meta=${encodeURIComponent(bad)}`);
      expect(e.status, bad).toBe(400);
      expect(e.body.error.message).toContain('meta must be key=value pairs');
    }
  });

  it.each([
    ['blank', '   ', 'must not be blank'],
    ['too long', 'x'.repeat(REQUEST_BOUNDS.name_length + 1), `at most ${REQUEST_BOUNDS.name_length} characters`],
    ['with NUL', 'a\u0000b', 'NUL'],
    ['not a string', 7, 'name'],
  ])('refuses a name that is %s with 400', async (_what, name, message) => {
    const r = await api<ErrorBody>(server.url, 'POST', '/api/evaluations', { code: 'print(1)', name });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_request');
    expect(r.body.error.message).toContain(message);
  });
});
