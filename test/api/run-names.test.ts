/** An evaluation's optional name and its code title: accepted, bounded, returned and searchable. */
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
