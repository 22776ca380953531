/**
 * A body over the limit gets a 413 that ordinary clients can read. Python's urllib and requests
 * send the whole body before reading the answer; a server that answers and closes at once makes
 * them fail with "Broken pipe" instead of showing the 413. /api/config lists every size bound.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_BOUNDS } from '../../src/domain/limits.js';
import { api, startTestServer } from '../helpers/server.js';

const run = promisify(execFile);

/** Posts `mib` MiB of JSON with Python's urllib and prints the status and the error code it read. */
const URLLIB_CLIENT = `
import json, sys, urllib.request, urllib.error
body = b'{"code": "' + b"x" * (int(sys.argv[2]) * 1024 * 1024) + b'"}'
req = urllib.request.Request(sys.argv[1] + "/api/evaluations", data=body, headers={"Content-Type": "application/json"})
try:
    urllib.request.urlopen(req, timeout=30)
    print("accepted")
except urllib.error.HTTPError as e:
    print(e.code, json.loads(e.read())["error"]["code"])
`;

describe('bodies over the limit', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer({ workers: 0 });
  });
  afterAll(() => server.stop());

  it.each([16, 40])('a %i MiB body gets a 413 that Python urllib can read, not a broken pipe', async (mib) => {
    const { stdout } = await run('/usr/bin/python3', ['-c', URLLIB_CLIENT, server.url, String(mib)], { timeout: 60_000 });
    expect(stdout.trim()).toBe('413 payload_too_large');
  });

  it('the server still answers afterwards', async () => {
    expect((await api(server.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('lists every request size bound in /api/config and as maxLength in the OpenAPI document', async () => {
    const config = await api<{ request_bounds: Record<string, number> }>(server.url, 'GET', '/api/config');
    expect(config.body.request_bounds).toEqual({ ...REQUEST_BOUNDS });
    const openapi = await api<{
      paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: { properties: Record<string, { maxLength?: number }> } }> } } }>;
    }>(server.url, 'GET', '/docs/json');
    const create = openapi.body.paths['/api/evaluations']!.post!.requestBody.content['application/json']!.schema.properties;
    expect(create.code!.maxLength).toBe(REQUEST_BOUNDS.code_bytes);
    expect(create.stdin!.maxLength).toBe(REQUEST_BOUNDS.stdin_bytes);
  });
});
