/**
 * Request rate limits per API key (token bucket, per process in the embedded platform): a burst,
 * then 429 rate_limited with Retry-After, other keys unaffected, tokens coming back with time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS_ACTOR, type CreatedApiKey } from '../../src/domain/access.js';
import { api, startTestServer } from '../helpers/server.js';

describe('per-key request rate limit (embedded)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let first: CreatedApiKey;
  let second: CreatedApiKey;
  const as = (key: CreatedApiKey) => ({ authorization: `Bearer ${key.key}` });

  beforeAll(async () => {
    server = await startTestServer({ workers: 0, auth: 'required', keyRatePerSecond: 2, keyRateBurst: 3 });
    first = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name: 'first', role: 'viewer' });
    second = await server.platform.access.createKey(ANONYMOUS_ACTOR, { name: 'second', role: 'viewer' });
  });
  afterAll(async () => server?.stop());

  it('allows the burst, then answers 429 rate_limited with Retry-After; another key is unaffected; tokens refill', async () => {
    for (let i = 0; i < 3; i++) expect((await api(server.url, 'GET', '/api/config', undefined, as(first))).status).toBe(200);
    const limited = await api<{ error: { code: string; message: string } }>(server.url, 'GET', '/api/config', undefined, as(first));
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(limited.body.error.message).toContain(first.id);
    expect(Number(limited.headers.get('retry-after'))).toBe(1);
    expect((await api(server.url, 'GET', '/api/config', undefined, as(second))).status).toBe(200);
    // Open routes (probes) are never limited.
    expect((await api(server.url, 'GET', '/healthz')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 600)); // 2 tokens a second: one is back
    expect((await api(server.url, 'GET', '/api/config', undefined, as(first))).status).toBe(200);
  });
});
