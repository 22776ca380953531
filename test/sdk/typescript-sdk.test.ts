/**
 * The TypeScript SDK (src/client, published as sdk/typescript) against a real server, plus the
 * faults a real server does not produce on demand (a 429 with Retry-After, a stream that drops),
 * played by a small node:http server so the test sees exactly what the SDK sends.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, CrucibleClient, type EvaluationEvent } from '../../src/client/index.js';
import { startTestServer } from '../helpers/server.js';
import { anyEvaluationId, missingRoute } from './support.js';

describe('TypeScript SDK against a real server', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: CrucibleClient;
  const tag = `sdk-ts-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startTestServer();
    client = new CrucibleClient(`${server.url}/`);
  });
  afterAll(async () => server?.stop());

  it('runs a program and returns the finished evaluation', async () => {
    const ev = await client.run({ code: 'print("hello from ts")', tags: [tag] });
    expect([ev.status, ev.exit_code, ev.stdout]).toEqual(['completed', 0, 'hello from ts\n']);
    const failed = await client.run({ code: 'import sys; sys.exit(3)', tags: [tag] });
    expect([failed.status, failed.exit_code]).toEqual(['failed', 3]);
  });

  it('submits, holds with waitS, gets and waits', async () => {
    const held = await client.submit({ code: 'print(1)', tags: [tag] }, { waitS: 30 });
    expect(held.status).toBe('completed');
    const created = await client.submit({ code: 'print(6 * 7)', tags: [tag], timeout_s: 10 });
    expect((await client.get(created.id)).id).toBe(created.id);
    const done = await client.wait(created.id);
    expect([done.stdout, done.limits.timeout_s]).toEqual(['42\n', 10]);
  });

  it('streams events in order until done, and resumes after a given seq', async () => {
    const created = await client.submit({ code: 'import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.05)', tags: [tag] });
    const events: EvaluationEvent[] = [];
    for await (const e of client.events(created.id)) events.push(e);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(events.at(-1)?.type).toBe('done');
    expect(events.map((e) => (e.type === 'stdout' ? e.data.text : '')).join('')).toBe('0\n1\n2\n');
    const rest: number[] = [];
    for await (const e of client.events(created.id, { after: seqs[1] })) rest.push(e.seq);
    expect(rest).toEqual(seqs.slice(2));
  });

  it('carries bytes exactly: base64 stdin in, raw stdout and stderr out', async () => {
    const ev = await client.run({
      code: "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])\nsys.stderr.buffer.write(b'\\xff\\x00e')",
      stdin_base64: Buffer.from([0, 1, 0xfe, 0xff]).toString('base64'),
      tags: [tag],
    });
    expect([...(await client.stdoutBytes(ev.id))]).toEqual([0xff, 0xfe, 1, 0]);
    expect([...(await client.stderrBytes(ev.id))]).toEqual([0xff, 0, 0x65]);
  });

  it('batches, then lists page by page with filters', async () => {
    const batchTag = `${tag}-batch`;
    const ids = await client.batch([0, 1, 2].map((n) => ({ code: `print(${n})`, tags: [batchTag] })));
    expect(ids).toHaveLength(3);
    await Promise.all(ids.map((id) => client.wait(id)));
    const all: string[] = [];
    for await (const s of client.listAll({ tags: [batchTag], status: ['completed'], limit: 1 })) all.push(s.id);
    expect(all.sort()).toEqual([...ids].sort());
    const page = await client.list({ tags: batchTag, limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.next_cursor).not.toBeNull();
    expect((await client.list({ tags: batchTag, status: 'failed' })).items).toEqual([]);
  });

  it('cancels a running evaluation; cancelling it again is already_terminal', async () => {
    const created = await client.submit({ code: "import time\nprint('up', flush=True)\ntime.sleep(60)", tags: [tag] });
    for await (const e of client.events(created.id)) if (e.type === 'stdout') break;
    await client.cancel(created.id);
    expect((await client.wait(created.id)).status).toBe('cancelled');
    const err = await client.cancel(created.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([(err as ApiError).status, (err as ApiError).code]).toEqual([409, 'already_terminal']);
  });

  it('turns API errors into ApiError with status, code, message and issues', async () => {
    const bad = (await client.submit({ code: 'print(1)', timeout_s: -1 }).catch((e: unknown) => e)) as ApiError;
    expect([bad.status, bad.code]).toEqual([400, 'invalid_request']);
    expect(bad.issues.some((i) => i.path.includes('timeout_s'))).toBe(true);
    const missing = (await client.get('ev_does_not_exist').catch((e: unknown) => e)) as ApiError;
    expect([missing.status, missing.code]).toEqual([404, 'not_found']);
    const unreachable = (await new CrucibleClient('http://127.0.0.1:9').get('x').catch((e: unknown) => e)) as ApiError;
    expect([unreachable.status, unreachable.code]).toEqual([0, 'unreachable']);
  });

  it('gives up waiting after timeoutMs without touching the evaluation', async () => {
    const created = await client.submit({ code: 'import time; time.sleep(30)', tags: [tag] });
    const err = (await client.wait(created.id, { timeoutMs: 300 }).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('wait_timeout');
    await client.cancel(created.id);
  });

  it('reads the server views the web UI shows', async () => {
    const [config, queue, workers, check] = await Promise.all([client.config(), client.queue(), client.workers(), client.syntaxCheck('def f(:\n')]);
    expect(config).toHaveProperty('limits');
    expect(queue).toHaveProperty('depth');
    expect(Array.isArray(workers.workers)).toBe(true);
    expect(check.ok).toBe(false);
  });

  it('lists and reads artifacts', async (ctx) => {
    const missing = await missingRoute(server.url, `/api/evaluations/${await anyEvaluationId(server.url)}/artifacts`);
    if (missing) return ctx.skip(`artifacts: ${missing}`);
    const ev = await client.run({
      code: "import os\nos.makedirs('/sandbox/out/sub', exist_ok=True)\nopen('/sandbox/out/sub/a.bin', 'wb').write(bytes([0, 255]))",
    });
    const listed = await client.artifacts(ev.id);
    expect(listed.map((a) => [a.path, a.size_bytes])).toEqual([['sub/a.bin', 2]]);
    expect([...(await client.artifact(ev.id, 'sub/a.bin'))]).toEqual([0, 255]);
    expect(((await client.artifact(ev.id, 'nope').catch((e: unknown) => e)) as ApiError).status).toBe(404);
  });

  it('drives a session: exec, files byte for byte, end', async (ctx) => {
    const missing = await missingRoute(server.url, '/api/sessions');
    if (missing) return ctx.skip(`sessions: ${missing}`);
    const payload = new Uint8Array(256 * 1000).map((_, i) => i % 256);
    const sessionId = await client.withSession({ environment: 'python' }, async (s) => {
      const r = await s.exec(['sh', '-c', 'echo hi > state.txt; echo done']);
      expect([r.exit_code, r.stdout]).toEqual([0, 'done\n']);
      expect((await s.exec({ code: "print(open('state.txt').read().strip())" })).stdout).toBe('hi\n');
      expect((await s.exec({ cmd: ['sh', '-c', 'echo $G; pwd'], env: { G: 'g' }, cwd: '/tmp' })).stdout).toBe('g\n/tmp\n');
      await s.writeFile('data/blob.bin', payload);
      expect(await s.readFile('data/blob.bin')).toEqual(payload);
      expect(((await s.readFile('no/such').catch((e: unknown) => e)) as ApiError).status).toBe(404);
      expect(await s.readFile('data/blob.bin', { maxBytes: payload.length })).toEqual(payload);
      const tooLarge = (await s.readFile('data/blob.bin', { maxBytes: payload.length - 1 }).catch((e: unknown) => e)) as ApiError;
      expect([tooLarge.status, tooLarge.code]).toEqual([413, 'file_too_large']);
      expect((await client.listSessions()).items.map((i) => i.id)).toContain(s.id);
      return s.id;
    });
    expect((await client.getSession(sessionId)).status).toBe('ended');
    const events = [];
    for await (const e of client.sessionEvents(sessionId)) events.push(e);
    expect(events.length).toBeGreaterThan(0);
  });
});

describe('TypeScript SDK transport faults', () => {
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
  let rateLimitedLeft = 0;
  let stub: http.Server;
  let url: string;

  beforeAll(async () => {
    stub = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      if (req.url?.startsWith('/api/evaluations/ev_1/events')) {
        // The first connection ends after two events, before done; the reconnect must resume after them.
        const last = Number(req.headers['last-event-id'] ?? 0);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (let seq = last + 1; seq <= (last === 0 ? 2 : 4); seq++) {
          const type = seq === 4 ? 'done' : 'stdout';
          res.write(`id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify({ seq, at: '2026-01-01T00:00:00Z', type, data: { text: `${seq}\n` } })}\n\n`);
        }
        return res.end(); // no done: to the client the stream just stopped
      }
      if (rateLimitedLeft > 0) {
        rateLimitedLeft--;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
        return res.end(JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'ev_1', status: 'completed' }));
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => stub.close(() => r())));

  it('resumes a dropped stream with Last-Event-ID: nothing missed, nothing repeated', async () => {
    seen.length = 0;
    const seqs: number[] = [];
    for await (const e of new CrucibleClient(url).events('ev_1')) seqs.push(e.seq);
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(seen.map((s) => s.headers['last-event-id'])).toEqual(['0', '2']);
  });

  it('retries a 429 with Retry-After, then reports it when retries run out', async () => {
    seen.length = 0;
    rateLimitedLeft = 2;
    expect((await new CrucibleClient(url, { retries: 2 }).get('ev_1')).status).toBe('completed');
    expect(seen).toHaveLength(3);
    rateLimitedLeft = 1;
    const err = (await new CrucibleClient(url, { retries: 0 }).get('ev_1').catch((e: unknown) => e)) as ApiError;
    expect([err.status, err.code, err.retryAfterS]).toEqual([429, 'rate_limited', 0]);
  });

  it('sends the API key as a bearer token and goes through a custom fetch', async () => {
    seen.length = 0;
    const fetched: string[] = [];
    const observed: typeof fetch = (input, init) => {
      fetched.push(String(input));
      return fetch(input, init);
    };
    await new CrucibleClient(url, { apiKey: 'k-1', fetch: observed }).get('ev_1');
    expect(seen[0]?.headers.authorization).toBe('Bearer k-1');
    expect(fetched).toEqual([`${url}/api/evaluations/ev_1`]);
  });
});
