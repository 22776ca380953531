/**
 * Output PostgreSQL cannot hold as text (NUL bytes) or that is not UTF-8 at all is recorded and
 * streamed the same way as on SQLite, and input it cannot hold is refused with 400, not a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL, REDIS_URL, ScaleOutDeployment, submit, waitAllTerminal } from '../helpers/scale-out.js';
import { api, type ServerProcess } from '../helpers/server.js';
import { readSse } from '../helpers/sse.js';

describe('scale-out: binary output and NUL characters', () => {
  const deployment = new ScaleOutDeployment(PG_URL, REDIS_URL);
  let apiServer: ServerProcess;
  beforeAll(async () => {
    apiServer = await deployment.startApi();
    await deployment.startWorker({ concurrency: 1 });
  });
  afterAll(async () => deployment.cleanup());

  it('records NUL bytes and invalid UTF-8 as U+FFFD, live and final', async () => {
    const e = await submit(apiServer.url, { code: 'import sys\nsys.stdout.buffer.write(b"a\\x00b\\xff\\xfec\\n")\nsys.stderr.buffer.write(b"\\x00")' });
    const [done] = await waitAllTerminal(apiServer.url, [e.id], 30_000);
    expect(done).toMatchObject({ status: 'completed', stdout: 'a\uFFFDb\uFFFD\uFFFDc\n', stderr: '\uFFFD' });
    const events = await readSse(`${apiServer.url}/api/evaluations/${e.id}/events`);
    const streamed = events
      .filter((m) => m.event === 'stdout')
      .map((m) => (m.data as { data: { text: string } }).data.text)
      .join('');
    expect(streamed).toBe('a\uFFFDb\uFFFD\uFFFDc\n');
  });

  it('refuses NUL in code, stdin, metadata and filters with 400', async () => {
    for (const body of [{ code: 'print(1)\u0000' }, { code: 'print(1)', stdin: 'a\u0000' }, { code: 'print(1)', metadata: { k: 'v\u0000' } }]) {
      const r = await api<{ error: { code: string; message: string } }>(apiServer.url, 'POST', '/api/evaluations', body);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toContain('NUL');
    }
    const q = await api<{ error: { code: string } }>(apiServer.url, 'GET', '/api/evaluations?q=%00');
    expect(q.status).toBe(400);
  });
});
