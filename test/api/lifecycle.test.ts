/** Submit → queue → sandbox → record → stream, end to end through the HTTP API on the embedded default. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EvaluationList, EvaluationSummary, type Evaluation } from '../../src/domain/evaluation.js';
import { api, startTestServer, waitFor } from '../helpers/server.js';
import { readSse } from '../helpers/sse.js';

describe('evaluation lifecycle over the API', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer({ workers: 2 });
  });
  afterAll(async () => server?.stop());

  const submit = (body: Record<string, unknown>, query = '') => api<Evaluation>(server.url, 'POST', `/api/evaluations${query}`, body);

  it('runs a program and returns the whole record with ?wait=true', async () => {
    const r = await submit(
      { code: 'import sys\nprint("hello")\nprint("oops", file=sys.stderr)', tags: ['life', 'hello'], metadata: { model: 'm1' } },
      '?wait=true',
    );
    expect(r.status).toBe(200);
    const e = r.body;
    expect(e).toMatchObject({
      status: 'completed',
      exit_code: 0,
      signal: null,
      reason: 'exit_zero',
      stdout: 'hello\n',
      stderr: 'oops\n',
      stdout_truncated: false,
      tags: ['life', 'hello'],
      metadata: { model: 'm1' },
      environment: 'python',
      attempts: 1,
    });
    expect(e.code_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(e.limits).toEqual({
      timeout_s: 30,
      memory_mb: 512,
      cpus: 1,
      max_processes: 64,
      max_output_bytes: 1048576,
      scratch_mb: 64,
      max_artifacts: 20,
      max_artifact_bytes: 16_777_216,
    });
    expect(e.metrics.wall_ms).toBeGreaterThan(0);
    expect(e.metrics.cpu_ms).toBeGreaterThan(0);
    expect(e.metrics.peak_memory_bytes).toBeGreaterThan(1_000_000);
    expect(Date.parse(e.finished_at!)).toBeGreaterThanOrEqual(Date.parse(e.started_at!));
    expect(e.worker).toBeTruthy();
    const again = await api<Evaluation>(server.url, 'GET', `/api/evaluations/${e.id}`);
    expect(again.body).toEqual(e);
  });

  it('answers 202 at once without wait, with a Location', async () => {
    const r = await submit({ code: 'print(2)' });
    expect(r.status).toBe(202);
    expect(r.headers.get('location')).toBe(`/api/evaluations/${r.body.id}`);
    expect(['queued', 'provisioning', 'running', 'completed']).toContain(r.body.status);
    const done = await waitFor('completion', async () => {
      const g = await api<Evaluation>(server.url, 'GET', `/api/evaluations/${r.body.id}`);
      return g.body.status === 'completed' && g.body;
    });
    expect(done.stdout).toBe('2\n');
  });

  it('reports failures honestly: exit code, syntax error, timeout with partial output', async () => {
    const exit3 = (await submit({ code: 'import sys; sys.exit(3)' }, '?wait=true')).body;
    expect(exit3).toMatchObject({ status: 'failed', reason: 'exit_nonzero', exit_code: 3 });
    const syntax = (await submit({ code: 'def broken(:\n  pass' }, '?wait=true')).body;
    expect(syntax).toMatchObject({ status: 'failed', reason: 'exit_nonzero', exit_code: 1 });
    expect(syntax.stderr).toContain('SyntaxError');
    const loop = (await submit({ code: 'print("before", flush=True)\nwhile True: pass', timeout_s: 1 }, '?wait=true')).body;
    expect(loop).toMatchObject({ status: 'timeout', reason: 'timeout' });
    expect(loop.stdout).toBe('before\n');
    expect(loop.message).toContain('Time limit exceeded (1 s)');
  });

  it('stops holding a ?wait_s request whose client hung up; the evaluation goes on', async () => {
    const service = server.platform.evaluations;
    const original = service.waitForTerminal.bind(service);
    let released = 0;
    service.waitForTerminal = async (...args) => {
      const e = await original(...args);
      released = Date.now();
      return e;
    };
    try {
      const client = new AbortController();
      const body = JSON.stringify({ code: 'import time\nprint("up", flush=True)\ntime.sleep(3)\nprint("done")', tags: ['hung-up'] });
      const pending = fetch(`${server.url}/api/evaluations?wait_s=60`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: client.signal,
      });
      const listed = await waitFor('the evaluation is running', async () => {
        const page = await api<{ items: Evaluation[] }>(server.url, 'GET', '/api/evaluations?tags=hung-up');
        return page.body.items[0]?.status === 'running' && page.body.items[0];
      });
      const hungUpAt = Date.now();
      client.abort();
      await pending.catch(() => undefined);
      await waitFor('the wait released', async () => released > 0, 2000);
      expect(released - hungUpAt).toBeLessThan(1500); // not the 60 s asked for, nor the program's 3 s
      const done = await waitFor('completion', async () => {
        const g = await api<Evaluation>(server.url, 'GET', `/api/evaluations/${listed.id}`);
        return g.body.status === 'completed' && g.body;
      });
      expect(done.stdout).toBe('up\ndone\n');
    } finally {
      service.waitForTerminal = original;
    }
  });

  it('streams status, output and done over SSE in order, with sequence ids', async () => {
    const r = await submit({ code: 'import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.3)' });
    const messages = await readSse(`${server.url}/api/evaluations/${r.body.id}/events`);
    const ids = messages.map((m) => Number(m.id));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    const statuses = messages.filter((m) => m.event === 'status').map((m) => (m.data as { data: { status: string } }).data.status);
    expect(statuses).toEqual(['queued', 'provisioning', 'running', 'completed']);
    const out = messages
      .filter((m) => m.event === 'stdout')
      .map((m) => (m.data as { data: { text: string } }).data.text)
      .join('');
    expect(out).toBe('0\n1\n2\n');
    expect(messages.at(-1)!.event).toBe('done');
    expect(messages.filter((m) => m.event === 'stdout').length).toBeGreaterThanOrEqual(2); // live, not all at the end
    // Every byte of output is in before the terminal status.
    const lastOutput = messages.map((m) => m.event).lastIndexOf('stdout');
    const terminal = messages.findIndex((m) => m.event === 'status' && (m.data as { data: { status: string } }).data.status === 'completed');
    expect(lastOutput).toBeLessThan(terminal);
  });

  it('replays the whole history to a late subscriber and exactly the rest after Last-Event-ID', async () => {
    const e = (await submit({ code: 'print("a")\nprint("b")' }, '?wait=true')).body;
    const all = await readSse(`${server.url}/api/evaluations/${e.id}/events`);
    expect(all.at(-1)!.event).toBe('done');
    const resumed = await readSse(`${server.url}/api/evaluations/${e.id}/events`, { lastEventId: '2' });
    expect(resumed.map((m) => m.id)).toEqual(all.slice(2).map((m) => m.id));
    const viaQuery = await readSse(`${server.url}/api/evaluations/${e.id}/events?after=3`);
    expect(viaQuery.map((m) => m.id)).toEqual(all.slice(3).map((m) => m.id));
  });

  it('streams every status change on /api/events', async () => {
    const feed = readSse(`${server.url}/api/events`, {
      until: (_m, all) =>
        all.some(
          (x) =>
            x.event === 'status' &&
            (x.data as { status: string; tags: string[] }).tags.includes('feed') &&
            (x.data as { status: string }).status === 'completed',
        ),
    });
    await new Promise((r) => setTimeout(r, 200));
    await submit({ code: 'print(1)', tags: ['feed'] });
    const messages = await feed;
    const mine = messages
      .filter((m) => m.event === 'status' && (m.data as { tags: string[] }).tags.includes('feed'))
      .map((m) => (m.data as { status: string }).status);
    expect(mine).toEqual(['queued', 'provisioning', 'running', 'completed']);
  });

  it('resumes /api/events after a reconnect: every status change after Last-Event-ID, then live ones', async () => {
    const tag = `resume-${Date.now()}`;
    const firstDone = await submit({ code: 'print(1)', tags: [tag] }, '?wait=true');
    expect(firstDone.body.status).toBe('completed');
    // A dashboard that saw the first change, then lost its connection while the rest happened.
    const missed = await readSse(`${server.url}/api/events`, { lastEventId: '0.a.0', until: (m) => m.event === 'ready', timeoutMs: 10_000 });
    const ofFirst = missed.filter((m) => m.event === 'status' && (m.data as { tags: string[] }).tags.includes(tag));
    expect(ofFirst.map((m) => (m.data as { status: string }).status)).toEqual(['queued', 'provisioning', 'running', 'completed']);
    const position = ofFirst[0]!.id!;
    const resumed = readSse(`${server.url}/api/events`, {
      lastEventId: position,
      until: (_m, all) => all.filter((x) => x.event === 'status' && (x.data as { tags: string[] }).tags.includes(tag)).length >= 7,
    });
    await submit({ code: 'print(2)', tags: [tag] }, '?wait=true');
    const mine = (await resumed).filter((m) => m.event === 'status' && (m.data as { tags: string[] }).tags.includes(tag));
    // The three missed changes of the first evaluation from the log, then the second one's, live.
    expect(mine.map((m) => `${(m.data as { id: string }).id === firstDone.body.id ? 1 : 2}:${(m.data as { status: string }).status}`)).toEqual([
      '1:provisioning',
      '1:running',
      '1:completed',
      '2:queued',
      '2:provisioning',
      '2:running',
      '2:completed',
    ]);
    expect(new Set(mine.map((m) => m.id)).size).toBe(7);
  });

  it('kills a running evaluation on cancel, keeping what it printed', async () => {
    const r = await submit({ code: 'import time\nprint("started", flush=True)\ntime.sleep(60)', tags: ['cancel-me'] });
    await readSse(`${server.url}/api/evaluations/${r.body.id}/events`, { until: (m) => m.event === 'stdout' });
    const live = await api<Evaluation>(server.url, 'GET', `/api/evaluations/${r.body.id}`);
    expect(live.body).toMatchObject({ status: 'running', stdout: 'started\n' }); // output so far, while it runs
    const t0 = Date.now();
    const c = await api<Evaluation>(server.url, 'POST', `/api/evaluations/${r.body.id}/cancel`, {});
    expect(c.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(c.body).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(c.body.stdout).toBe('started\n');
    expect(c.body.metrics.wall_ms).toBeGreaterThan(0);
  });

  it('lists newest first with tag and status filters and stable cursor pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit({ code: `print(${i})`, tags: ['page', i % 2 ? 'odd' : 'even'] })).body.id);
    const first = await api<{ items: Evaluation[]; next_cursor: string }>(server.url, 'GET', '/api/evaluations?tags=page&limit=2');
    expect(first.body.items.map((e) => e.id)).toEqual([ids[4], ids[3]]);
    expect(first.body.items[0]).not.toHaveProperty('code');
    // Pages skip the serializer's schema check (src/api/trusted-json.ts): exactly the documented keys, none more.
    const exactPage = EvaluationList.extend({ items: z.array(EvaluationSummary.strict()) }).strict();
    exactPage.parse(first.body);
    await submit({ code: 'print("newer")', tags: ['page'] }); // must not shift the next page
    const second = await api<{ items: Evaluation[]; next_cursor: string | null }>(
      server.url,
      'GET',
      `/api/evaluations?tags=page&limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.items.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    const odd = await api<{ items: Evaluation[] }>(server.url, 'GET', '/api/evaluations?tags=page,odd');
    expect(odd.body.items.map((e) => e.id)).toEqual([ids[3], ids[1]]);
    await waitFor(
      'all page evaluations done',
      async () =>
        (await api<{ items: Evaluation[] }>(server.url, 'GET', '/api/evaluations?tags=page&status=queued,provisioning,running')).body.items.length === 0,
    );
    const completed = await api<{ items: Evaluation[] }>(server.url, 'GET', '/api/evaluations?tags=page&status=completed&limit=50');
    expect(completed.body.items.length).toBe(6);
    exactPage.parse(completed.body);
  });

  it('runs 100 evaluations submitted at once; all complete, none stuck', async () => {
    const batch = await api<{ ids: string[] }>(server.url, 'POST', '/api/evaluations/batch', {
      evaluations: Array.from({ length: 100 }, (_, i) => ({ code: `print(${i} * 2)`, tags: ['hundred'] })),
    });
    expect(batch.status).toBe(202);
    expect(batch.body.ids).toHaveLength(100);
    await waitFor(
      '100 terminal',
      async () =>
        (await api<{ counts: Record<string, number> }>(server.url, 'GET', '/api/queue')).body.counts.queued === 0 &&
        (await api<{ items: unknown[] }>(server.url, 'GET', '/api/evaluations?tags=hundred&status=completed&limit=200')).body.items.length === 100,
      90_000,
      250,
    );
    const sample = await api<Evaluation>(server.url, 'GET', `/api/evaluations/${batch.body.ids[42]}`);
    expect(sample.body.stdout).toBe('84\n');
  }, 120_000);

  it('refuses a sandbox backend no running worker offers, naming the ones available', async () => {
    // This server is configured with bubblewrap only.
    const r = await api<{ error: { code: string; message: string } }>(server.url, 'POST', '/api/evaluations', { code: 'print(1)', sandbox: 'gvisor' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('sandbox_unavailable');
    expect(r.body.error.message).toContain('available: bubblewrap');
  });

  it('checks syntax without running the code', async () => {
    const ok = await api<{ ok: boolean }>(server.url, 'POST', '/api/syntax-check', { code: 'print(1)' });
    expect(ok.body).toEqual({ ok: true, errors: [] });
    const bad = await api<{ ok: boolean; errors: Array<{ line: number; message: string }> }>(server.url, 'POST', '/api/syntax-check', {
      code: 'x = 1\nif x\n  print(x)',
    });
    expect(bad.body.ok).toBe(false);
    expect(bad.body.errors[0]!.line).toBe(2);
    // Code a submission would refuse is refused here the same way, before any compiler sees it.
    const nul = await api<{ error: { code: string; message: string } }>(server.url, 'POST', '/api/syntax-check', { code: 'print(1)\u0000' });
    expect(nul.status).toBe(400);
    expect(nul.body.error.message).toMatch(/NUL/);
  });

  it('reports queue depth, workers and stats', async () => {
    const q = await api<{ counts: Record<string, number>; depth: number }>(server.url, 'GET', '/api/queue');
    expect(q.body.counts.completed).toBeGreaterThan(0);
    const w = await api<{ workers: Array<{ capacity: number; alive: boolean }> }>(server.url, 'GET', '/api/workers');
    expect(w.body.workers).toHaveLength(1);
    expect(w.body.workers[0]).toMatchObject({ capacity: 2, alive: true });
    const s = await api<{ buckets: Array<{ completed: number }> }>(server.url, 'GET', '/api/stats?minutes=5&bucket_s=60');
    expect(s.body.buckets.reduce((n, b) => n + b.completed, 0)).toBeGreaterThan(100);
  });
});
