/**
 * Faults of a scale-out deployment (PostgreSQL + Redis, API and workers as separate processes),
 * on real services: a worker SIGKILLed mid-run, Redis restarted (a private redis-server, so the
 * shared one is never disturbed), the API SIGKILLed while workers run, a cancel that must cross
 * processes, and a brief PostgreSQL outage (a private cluster). Each deployment has its own
 * schema and key prefix and is torn down even when its test fails.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { processesWithMarker } from '../helpers/processes.js';
import { privatePostgresSupport, startPrivatePostgres } from '../helpers/private-postgres.js';
import { startPrivateRedis } from '../helpers/private-redis.js';
import { getEvaluation, listWorkers, PG_URL, REDIS_URL, ScaleOutDeployment, submit, tickingProgram, waitAllTerminal } from '../helpers/scale-out.js';
import { api, waitFor } from '../helpers/server.js';
import { readSse, type SseMessage } from '../helpers/sse.js';

const newMarker = (what: string) => `crucible-${what}-${randomBytes(4).toString('hex')}`;
const programUp = (marker: string, timeoutMs = 15_000) =>
  waitFor(`program ${marker} running`, async () => processesWithMarker(marker).length > 0, timeoutMs, 50);
const programGone = (marker: string, timeoutMs = 5_000) =>
  waitFor(`program ${marker} gone`, async () => processesWithMarker(marker).length === 0, timeoutMs, 50);

/** Asserts a 503 in the API's error shape, with Retry-After. */
function expectUnavailable(res: { status: number; body: unknown; headers: Headers }): void {
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
}

describe('scale-out faults', () => {
  let deployment: ScaleOutDeployment | null = null;
  const deploy = (...args: ConstructorParameters<typeof ScaleOutDeployment>) => (deployment = new ScaleOutDeployment(...args));
  afterEach(async () => {
    await deployment?.cleanup();
    deployment = null;
  });

  it('a worker SIGKILLed mid-run: its evaluation fails with platform_error within the bound (max attempts 1), the rest run on a replacement', async () => {
    const d = deploy(PG_URL, REDIS_URL, { CRUCIBLE_MAX_ATTEMPTS: '1' });
    const { url } = await d.startApi();
    const doomed = await d.startWorker({ concurrency: 1 });
    const marker = newMarker('kill');
    const slow = await submit(url, { code: tickingProgram(marker, 20, 0.5) });
    const behind = [await submit(url, { code: 'print("a")' }), await submit(url, { code: 'print("b")' })];
    await programUp(marker);
    // The program is up before its worker has recorded `running`; kill only once it has.
    await waitFor('status running', async () => (await getEvaluation(url, slow.id)).status === 'running', 10_000, 50);

    const killedAt = Date.now();
    await doomed.kill('SIGKILL');
    await programGone(marker);
    const replacement = await d.startWorker({ concurrency: 1 });

    const [failed] = await waitAllTerminal(url, [slow.id], 15_000);
    const boundMs = Date.now() - killedAt;
    console.info(`faults: worker SIGKILL → evaluation failed platform_error after ${boundMs} ms (liveness window 3000 ms, max attempts 1)`);
    expect(failed).toMatchObject({ status: 'failed', reason: 'platform_error', worker: doomed.id, attempts: 1 });
    expect(failed!.message).toContain(`worker ${doomed.id} stopped while the evaluation was running`);
    expect(boundMs).toBeLessThan(8_000);

    const rest = await waitAllTerminal(
      url,
      behind.map((e) => e.id),
      20_000,
    );
    expect(rest.map((e) => [e.status, e.worker, e.stdout])).toEqual([
      ['completed', replacement.id, 'a\n'],
      ['completed', replacement.id, 'b\n'],
    ]);
    await waitFor('dead worker unlisted', async () => (await listWorkers(url)).map((w) => w.id).join() === replacement.id, 10_000);
  }, 60_000);

  it('Redis restarted while evaluations are queued and running: 503 while it is down, /readyz says so, then every accepted evaluation ends', async () => {
    const redis = await startPrivateRedis();
    const d = deploy(PG_URL, redis.url);
    d.teardown.add('private redis', () => redis.destroy());
    const { url } = await d.startApi();
    await d.startWorker({ concurrency: 2 });

    const marker = newMarker('redis');
    const running = [await submit(url, { code: tickingProgram(`${marker}-0`, 8, 0.5) }), await submit(url, { code: tickingProgram(`${marker}-1`, 8, 0.5) })];
    const queued = [];
    for (let i = 0; i < 3; i++) queued.push(await submit(url, { code: `print(${i})` }));
    await programUp(`${marker}-0`);
    await programUp(`${marker}-1`);

    await redis.kill();
    const refused = await api(url, 'POST', '/api/evaluations', { code: 'print("during the outage")' });
    expectUnavailable(refused);
    const ready = await api<{ status: string; checks: Record<string, { ok: boolean }> }>(url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.queue!.ok).toBe(false);
    expect(ready.body.checks.storage!.ok).toBe(true);

    await new Promise((r) => setTimeout(r, 1_000));
    await redis.start(); // empty: every BullMQ job is gone
    const recoveredAt = Date.now();
    await waitFor('ready again', async () => (await api(url, 'GET', '/readyz')).status === 200, 15_000, 200);
    const after = await submit(url, { code: 'print("after")' });
    console.info(`faults: API ready again ${Date.now() - recoveredAt} ms after Redis came back`);

    const ids = [...running, ...queued, after].map((e) => e.id);
    const finals = await waitAllTerminal(url, ids, 40_000);
    expect(finals.map((e) => e.status)).toEqual(Array(ids.length).fill('completed'));
    expect(finals.slice(0, 2).every((e) => e.stdout.endsWith('done\n'))).toBe(true);
  }, 60_000);

  it('API SIGKILLed while a worker runs: the worker carries on, a new API streams the evaluation live with Last-Event-ID resume', async () => {
    const d = deploy();
    const first = await d.startApi();
    const worker = await d.startWorker({ concurrency: 1 });
    const marker = newMarker('api');
    // 10 s of ticks: the API restart (a few seconds) happens early in it, the resume late.
    const evaluation = await submit(first.url, { code: tickingProgram(marker, 40, 0.25) });
    await programUp(marker);

    await first.kill('SIGKILL');
    const second = await d.startApi();
    const events = `${second.url}/api/evaluations/${evaluation.id}/events`;
    const stdoutOf = (messages: SseMessage[]) =>
      messages
        .filter((m) => m.event === 'stdout')
        .map((m) => (m.data as { data: { text: string } }).data.text)
        .join('');

    // Read a few live ticks, drop the connection, resume from the last id seen.
    const part = await readSse(events, { until: (_m, all) => /tick 30/.test(stdoutOf(all)), timeoutMs: 20_000 });
    expect(worker.alive()).toBe(true);
    expect(processesWithMarker(marker).length).toBeGreaterThan(0); // still running: the stream was live
    const lastId = part.at(-1)!.id!;
    const rest = await readSse(events, { lastEventId: lastId, until: (m) => m.event === 'done', timeoutMs: 20_000 });

    const ids = [...part, ...rest].map((m) => Number(m.id));
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i)); // in order, nothing missed, nothing twice
    expect(Number(rest[0]!.id)).toBe(Number(lastId) + 1);
    const final = await getEvaluation(second.url, evaluation.id);
    expect(final).toMatchObject({ status: 'completed', worker: worker.id, attempts: 1 });
    expect(stdoutOf([...part, ...rest])).toBe(final.stdout);
  }, 60_000);

  it('cancel through the API kills the sandbox on another process quickly; a queued one never runs', async () => {
    const d = deploy();
    const { url } = await d.startApi();
    const worker = await d.startWorker({ concurrency: 1 });
    const marker = newMarker('cancel');
    const running = await submit(url, { code: tickingProgram(marker, 60, 0.5) });
    const queued = await submit(url, { code: 'print("never")' });
    await programUp(marker);

    // The queued one first, while the worker's only slot is still taken.
    const early = await api<Evaluation>(url, 'POST', `/api/evaluations/${queued.id}/cancel`);
    expect(early.body).toMatchObject({ status: 'cancelled', started_at: null, worker: null });

    const started = Date.now();
    const cancelled = await api<Evaluation>(url, 'POST', `/api/evaluations/${running.id}/cancel`);
    const tookMs = Date.now() - started;
    console.info(`faults: cancel of an evaluation running on another process answered in ${tookMs} ms`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', worker: worker.id });
    expect(cancelled.body.message).not.toMatch(/did not confirm/); // the worker killed it, not the timeout
    expect(tookMs).toBeLessThan(2_000);
    await programGone(marker, 3_000);

    // The freed slot does not pick the cancelled one up.
    await new Promise((r) => setTimeout(r, 500));
    expect(await getEvaluation(url, queued.id)).toMatchObject({ status: 'cancelled', started_at: null, stdout: '' });
    expect((await api(url, 'POST', `/api/evaluations/${running.id}/cancel`)).status).toBe(409);
  }, 60_000);

  const noPrivatePostgres = privatePostgresSupport();
  it.skipIf(noPrivatePostgres !== null)(
    `PostgreSQL restarted (private cluster): 503 while it is down, then recovery, nothing lost${noPrivatePostgres ? ` — skipped: ${noPrivatePostgres}` : ''}`,
    async () => {
      const pg = await startPrivatePostgres();
      const d = deploy(pg.url, REDIS_URL);
      d.teardown.add('private postgres', () => pg.destroy());
      const { url } = await d.startApi();
      await d.startWorker({ concurrency: 2 });
      const before = await api<Evaluation>(url, 'POST', '/api/evaluations?wait=true', { code: 'print("before")' });
      expect(before.body.status).toBe('completed');

      // The program ends while the database is down: its result must still be recorded.
      const marker = newMarker('pg');
      const across = await submit(url, { code: tickingProgram(marker, 4, 0.5) });
      await programUp(marker);
      await pg.kill();
      expectUnavailable(await api(url, 'POST', '/api/evaluations', { code: 'print("during")' }));
      expectUnavailable(await api(url, 'GET', `/api/evaluations/${across.id}`));
      const ready = await api<{ checks: Record<string, { ok: boolean }> }>(url, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.storage!.ok).toBe(false);
      await programGone(marker, 10_000);
      await new Promise((r) => setTimeout(r, 1_000));

      await pg.start();
      await waitFor('ready again', async () => (await api(url, 'GET', '/readyz')).status === 200, 15_000, 200);
      const after = await submit(url, { code: 'print("after")' });
      const finals = await waitAllTerminal(url, [across.id, after.id], 30_000);
      expect(finals.map((e) => e.status)).toEqual(['completed', 'completed']);
      expect(finals[0]!.stdout).toContain('done');
    },
    60_000,
  );
});
