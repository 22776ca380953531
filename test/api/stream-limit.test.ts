/** The bound on event streams held open at once: beyond it 503 + Retry-After, and places come back when clients leave. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { api, startTestServer, waitFor } from '../helpers/server.js';

describe('event stream limit', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer({ workers: 1, maxStreams: 2 });
  });
  afterAll(async () => server?.stop());

  const open = async (path: string) => {
    const abort = new AbortController();
    const res = await fetch(`${server.url}${path}`, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
    return { res, close: () => abort.abort() };
  };

  it('refuses a stream beyond the maximum with 503 too_many_streams, and admits one again when a client leaves', async () => {
    const running = await api<Evaluation>(server.url, 'POST', '/api/evaluations', { code: 'import time\ntime.sleep(30)' });
    const first = await open('/api/events');
    const second = await open(`/api/evaluations/${running.body.id}/events`);
    expect(first.res.status).toBe(200);
    expect(second.res.status).toBe(200);

    const third = await open('/api/events');
    expect(third.res.status).toBe(503);
    expect(third.res.headers.get('retry-after')).toBe('5');
    const body = (await third.res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('too_many_streams');
    expect(body.error.message).toMatch(/2 event streams/);

    // The rest of the API is unaffected.
    expect((await api(server.url, 'GET', `/api/evaluations/${running.body.id}`)).status).toBe(200);

    first.close();
    const again = await waitFor(
      'a place freed',
      async () => {
        const next = await open('/api/events');
        if (next.res.status === 200) return next;
        next.close();
        return null;
      },
      5000,
    );
    again.close();
    second.close();
    await api(server.url, 'POST', `/api/evaluations/${running.body.id}/cancel`);
  });
});
