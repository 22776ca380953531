/** Everything a user can get wrong gets a specific 4xx JSON error, and nothing is lost or crashes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestServer } from '../helpers/server.js';

type ErrorBody = { error: { code: string; message: string; details?: Array<{ path: string[]; message: string }> } };

describe('API input validation and errors', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    // No local worker: submissions stay queued, so the queue bound is deterministic.
    server = await startTestServer({ workers: 0, maxQueueDepth: 3 });
  });
  afterAll(async () => server?.stop());

  it('rejects a limit above its maximum with 400 naming the field', async () => {
    const r = await api<ErrorBody>(server.url, 'POST', '/api/evaluations', { code: 'print(1)', timeout_s: 100000 });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_request');
    expect(r.body.error.message).toContain('timeout_s');
    expect(r.body.error.details?.[0]?.path).toEqual(['timeout_s']);
  });

  it.each([
    ['missing code', {}],
    ['empty code', { code: '' }],
    ['code of the wrong type', { code: 42 }],
    ['unknown field', { code: 'x', evil: true }],
    ['negative memory', { code: 'x', memory_mb: -5 }],
    ['fractional process count', { code: 'x', max_processes: 2.5 }],
    ['tag with spaces', { code: 'x', tags: ['a b'] }],
    ['metadata not an object', { code: 'x', metadata: [1, 2] }],
    ['body is an array', [1, 2, 3]],
    ['body is a string', '"hello"'],
  ])('400 for %s', async (_name, body) => {
    const r = await api<ErrorBody>(server.url, 'POST', '/api/evaluations', body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toMatch(/invalid_request|invalid_json/);
    expect(r.body.error.message.length).toBeGreaterThan(5);
  });

  it('400 (not a crash) for pathologically deep metadata', async () => {
    for (const depth of [40, 200_000]) {
      const body = `{"code":"print(1)","metadata":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
      const r = await api<ErrorBody>(server.url, 'POST', '/api/evaluations', body);
      expect(r.status, `depth ${depth}`).toBe(400);
      expect(r.body.error.message).toContain('nest at most 32 levels');
    }
  });

  it('400 for malformed JSON', async () => {
    const r = await api<ErrorBody>(server.url, 'POST', '/api/evaluations', '{"code": "print(1)"');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_json');
  });

  it('415 for a body that is not JSON', async () => {
    const res = await fetch(`${server.url}/api/evaluations`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'print(1)' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as ErrorBody).error.code).toBe('unsupported_media_type');
  });

  it('413 for a body larger than the server accepts', async () => {
    const r = await api<ErrorBody>(server.url, 'POST', '/api/evaluations', { code: 'x'.repeat(15 * 1024 * 1024) });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
  });

  it('400 for code larger than the code limit', async () => {
    const r = await api<ErrorBody>(server.url, 'POST', '/api/evaluations', { code: '#'.repeat(1_100_000) });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('code must be at most');
  });

  it('404 for an unknown evaluation, on every route', async () => {
    for (const [method, path] of [
      ['GET', '/api/evaluations/ev_nope'],
      ['POST', '/api/evaluations/ev_nope/cancel'],
      ['GET', '/api/evaluations/ev_nope/events'],
    ] as const) {
      const r = await api<ErrorBody>(server.url, method, path, method === 'POST' ? {} : undefined);
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
  });

  it('404 JSON for an unknown API route', async () => {
    const r = await api<ErrorBody>(server.url, 'GET', '/api/nothing-here');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });

  it('400 for bad list filters and a forged cursor', async () => {
    expect((await api<ErrorBody>(server.url, 'GET', '/api/evaluations?status=exploded')).status).toBe(400);
    expect((await api<ErrorBody>(server.url, 'GET', '/api/evaluations?limit=100000')).status).toBe(400);
    const forged = await api<ErrorBody>(server.url, 'GET', '/api/evaluations?cursor=not-a-cursor');
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('invalid_cursor');
  });

  it('batch: 400 for an empty or oversized batch, naming the bad item', async () => {
    expect((await api<ErrorBody>(server.url, 'POST', '/api/evaluations/batch', { evaluations: [] })).status).toBe(400);
    const bad = await api<ErrorBody>(server.url, 'POST', '/api/evaluations/batch', { evaluations: [{ code: 'ok' }, { code: 'x', cpus: 99 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details?.[0]?.path).toEqual(['evaluations', '1', 'cpus']);
  });

  it('503 with Retry-After when the queue is full, and nothing beyond the bound is stored', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api<{ id: string }>(server.url, 'POST', '/api/evaluations', { code: `print(${i})`, tags: ['overflow'] });
      expect(r.status).toBe(202);
      accepted.push(r.body.id);
    }
    const full = await api<ErrorBody>(server.url, 'POST', '/api/evaluations', { code: 'print(4)', tags: ['overflow'] });
    expect(full.status).toBe(503);
    expect(full.body.error.code).toBe('queue_full');
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
    const listed = await api<{ items: Array<{ id: string; status: string }> }>(server.url, 'GET', '/api/evaluations?tags=overflow');
    expect(listed.body.items.map((e) => e.id).sort()).toEqual(accepted.sort());
    expect(listed.body.items.every((e) => e.status === 'queued')).toBe(true);
  });

  it('409 when cancelling an evaluation that already ended', async () => {
    const list = await api<{ items: Array<{ id: string }> }>(server.url, 'GET', '/api/evaluations?tags=overflow&limit=1');
    const id = list.body.items[0]!.id;
    expect((await api(server.url, 'POST', `/api/evaluations/${id}/cancel`, {})).status).toBe(200);
    const again = await api<ErrorBody>(server.url, 'POST', `/api/evaluations/${id}/cancel`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_terminal');
  });

  it('accepts a bodiless POST .../cancel even when it says application/json', async () => {
    const list = await api<{ items: Array<{ id: string }> }>(server.url, 'GET', '/api/evaluations?status=queued&limit=1');
    const id = list.body.items[0]!.id;
    const res = await fetch(`${server.url}/api/evaluations/${id}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('cancelled');
  });

  it('serves the OpenAPI document generated from the schemas', async () => {
    const r = await api<{ openapi: string; paths: Record<string, unknown> }>(server.url, 'GET', '/docs/json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    expect(Object.keys(r.body.paths)).toEqual(
      expect.arrayContaining(['/api/evaluations', '/api/evaluations/{id}', '/api/evaluations/{id}/events', '/api/queue', '/api/workers']),
    );
  });

  it('is still healthy after all of that', async () => {
    expect((await api(server.url, 'GET', '/healthz')).status).toBe(200);
    expect((await api(server.url, 'GET', '/readyz')).status).toBe(200);
  });
});
