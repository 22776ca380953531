/** EvaluationService (src/app/evaluation-service.ts) on in-memory SQLite, the embedded queue and the memory bus. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resultWithoutRun } from '../../src/app/verdicts.js';
import type { StatusChange } from '../../src/domain/events.js';
import { channels } from '../../src/ports/bus.js';
import {
  claim,
  expectCrucibleError,
  expectGapFree,
  failing,
  openInMemoryPlatform,
  recordChannel,
  registerWorker,
  request,
  storedEvents,
  submitOne,
  waitFor,
  wrapQueue,
  type InMemoryPlatform,
} from '../helpers/in-memory-platform.js';
import { runResult } from '../helpers/scripted-sandbox.js';

let p: InMemoryPlatform;
beforeEach(async () => {
  p = await openInMemoryPlatform({ pollMs: 20 });
});
afterEach(() => p.close());

describe('submit', () => {
  it('stores the evaluation queued, enqueues its job and publishes its first status with the tags', async () => {
    const feed = await recordChannel(p.bus, channels.statusFeed);
    const [evaluation] = await p.service().submit([request({ tags: ['batch-7', 'batch-7', 'nightly'], stdin: 'in' })]);

    expect(evaluation).toMatchObject({ status: 'queued', tags: ['batch-7', 'nightly'], stdin: 'in', attempts: 0 });
    expect(evaluation!.code_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await p.storage.evaluations.get(evaluation!.id))?.status).toBe('queued');
    expect(await p.queuedJobs()).toEqual([evaluation!.id]);
    expect(expectGapFree(await storedEvents(p.storage, evaluation!.id))).toEqual(['status:queued']);
    await waitFor(() => feed.payloads.length === 1);
    expect(feed.json<StatusChange>()).toEqual([expect.objectContaining({ id: evaluation!.id, status: 'queued', reason: null, tags: ['batch-7', 'nightly'] })]);
  });

  it('answers 503 queue_full with a Retry-After when the batch would overflow the queue, storing nothing', async () => {
    await submitOne(p);
    const err = await expectCrucibleError(p.service({ maxQueueDepth: 2 }).submit([request(), request()]), 'queue_full', 503);
    expect(err.retryAfterS).toBeGreaterThanOrEqual(1);
    expect((await p.storage.stats.countByStatus()).queued).toBe(1);
    expect(await p.queue.depth()).toBe(1);
  });

  it('answers 503 queue_unavailable when the queue depth cannot be read, storing nothing', async () => {
    const service = p.service({}, { queue: wrapQueue(p.queue, { depth: failing('queue') }) });
    const err = await expectCrucibleError(service.submit([request()]), 'queue_unavailable', 503);
    expect(err.retryAfterS).toBe(2);
    expect((await p.storage.evaluations.list({ limit: 10, status: undefined, tags: undefined })).items).toEqual([]);
  });

  it('ends the stored evaluations as failed/platform_error and answers 503 when enqueue fails', async () => {
    const feed = await recordChannel(p.bus, channels.statusFeed);
    const service = p.service({}, { queue: wrapQueue(p.queue, { enqueue: failing('queue') }) });
    await expectCrucibleError(service.submit([request(), request()]), 'queue_unavailable', 503);

    const failed = await p.storage.evaluations.findByStatus(['failed']);
    expect(failed).toHaveLength(2);
    for (const e of failed) {
      expect(e.reason).toBe('platform_error');
      expect(e.message).toContain('never run');
      expect(expectGapFree(await storedEvents(p.storage, e.id))).toEqual(['status:queued', 'status:failed', 'done']);
    }
    expect(await p.queue.depth()).toBe(0);
    // The `queued` creation was never announced; only the failure was.
    await waitFor(() => feed.payloads.length === 2);
    expect(feed.json<StatusChange>().map((c) => c.status)).toEqual(['failed', 'failed']);
  });

  it('refuses with 400 sandbox_unavailable a sandbox no live worker offers', async () => {
    await registerWorker(p.storage, 'w-live', { sandboxes: ['bubblewrap'] });
    await registerWorker(p.storage, 'w-stale', { sandboxes: ['gvisor'], ageMs: 60_000 });
    const service = p.service();
    const err = await expectCrucibleError(service.submit([request({ sandbox: 'gvisor' })]), 'sandbox_unavailable', 400);
    expect(err.details).toEqual({ available: ['bubblewrap'], environment: 'python' });
    expect(await p.queue.depth()).toBe(0);
    const [accepted] = await service.submit([request({ sandbox: 'bubblewrap' })]);
    expect(accepted?.status).toBe('queued');
  });

  it("judges the sandbox by the workers serving the environment: another environment's gvisor does not count, an unserved environment waits", async () => {
    await registerWorker(p.storage, 'w-plain', { sandboxes: ['bubblewrap'], environments: ['python'] });
    await registerWorker(p.storage, 'w-data', { sandboxes: ['bubblewrap', 'gvisor'], environments: ['python-data'] });
    const service = p.service();
    const err = await expectCrucibleError(service.submit([request({ sandbox: 'gvisor' })]), 'sandbox_unavailable', 400);
    expect(err.message).toBe('No running worker serving environment "python" offers the gvisor sandbox; available: bubblewrap.');
    const [data] = await service.submit([request({ sandbox: 'gvisor', environment: 'python-data' })]);
    expect(data).toMatchObject({ status: 'queued', waiting_reason: null });
    const [ml] = await service.submit([request({ sandbox: 'gvisor', environment: 'python-ml' })]);
    expect(ml!.waiting_reason).toMatch(/^No live worker serves environment "python-ml" \(live workers serve: python, python-data\)/);
  });
});

describe('get', () => {
  it('answers 404 not_found for an unknown id', async () => {
    await expectCrucibleError(p.service().get('no-such-evaluation'), 'not_found', 404);
  });

  it('reconstructs the live stdout and stderr of a running evaluation from its events', async () => {
    const { id, tags } = await submitOne(p);
    await claim(p, id, 'w1');
    await p.lifecycle.append({ id, tags }, [
      { type: 'stdout', at: new Date().toISOString(), data: { text: 'line 1\n' } },
      { type: 'stderr', at: new Date().toISOString(), data: { text: 'warning\n' } },
      { type: 'stdout', at: new Date().toISOString(), data: { text: 'line 2\n' } },
    ]);
    expect((await p.storage.evaluations.get(id))?.stdout).toBe('');
    expect(await p.service().get(id)).toMatchObject({ status: 'running', stdout: 'line 1\nline 2\n', stderr: 'warning\n' });
  });
});

describe('large outputs sent in pieces', () => {
  it('tells the memory reclaimer what a response sent once all of its pieces are read, and not before', async () => {
    const told: number[] = [];
    const service = p.service({}, { memory: { afterLargeOutput: (bytes) => void told.push(bytes) } });
    const { id, limits } = await submitOne(p);
    await claim(p, id, 'w1');
    const stdout = 'o'.repeat(600 * 1024) + 'é'.repeat(300 * 1024); // over 1 MiB of UTF-8: stored in pieces
    await p.lifecycle.finish(id, runResult(limits, { exitCode: 0 }, { stdout, stderr: 'e' }), { expectFrom: ['running'] });
    const read = await service.read(id);
    let text = '';
    for await (const piece of read.pieces!.stdout) text += piece;
    expect(text === stdout).toBe(true);
    expect(told).toEqual([]);
    for await (const piece of read.pieces!.stderr) text += piece;
    expect(told).toEqual([stdout.length + 1]);

    let bytes = 0;
    for await (const piece of await service.output(id, 'stdout')) bytes += piece.byteLength;
    expect(bytes).toBe(Buffer.byteLength(stdout));
    expect(told).toEqual([stdout.length + 1, bytes]);
  });
});

describe('cancel', () => {
  it('cancels a queued evaluation at once and takes its job out of the queue', async () => {
    const { id } = await submitOne(p);
    const cancelled = await p.service().cancel(id);
    expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(cancelled.message).toContain('while queued');
    expect(await p.queuedJobs()).toEqual([]);
    expect(expectGapFree(await storedEvents(p.storage, id))).toEqual(['status:queued', 'status:cancelled', 'done']);
  });

  it('answers 409 already_terminal for an evaluation that already ended', async () => {
    const service = p.service();
    const { id } = await submitOne(p);
    await service.cancel(id);
    await expectCrucibleError(service.cancel(id), 'already_terminal', 409);
  });

  it('returns the cancellation a worker recorded when it confirms within the grace period', async () => {
    const { id } = await submitOne(p);
    const running = await claim(p, id, 'w1');
    // The "worker": kills its sandbox on the cancel message and records the cancellation.
    const sub = await p.bus.subscribe(channels.cancel, (payload) => {
      if (payload !== id) return;
      void p.lifecycle.finish(id, resultWithoutRun(running, { cancelled: true, detail: 'killed by w1' }), { expectFrom: ['running'], expectWorker: 'w1' });
    });
    const startedAt = Date.now();
    const result = await p.service({ cancelGraceMs: 5_000 }).cancel(id);
    await sub.unsubscribe();
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(result).toMatchObject({ status: 'cancelled', reason: 'cancelled', message: 'killed by w1' });
  });

  it('forces the cancellation when no worker confirms within cancelGraceMs, and asks the worker again', async () => {
    const { id } = await submitOne(p);
    await claim(p, id, 'w1');
    const cancels = await recordChannel(p.bus, channels.cancel);
    const result = await p.service({ cancelGraceMs: 50 }).cancel(id);
    expect(result).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(result.message).toContain('did not confirm');
    await waitFor(() => cancels.payloads.length === 2);
    expect(cancels.payloads).toEqual([id, id]);
    expect(expectGapFree(await storedEvents(p.storage, id)).slice(-2)).toEqual(['status:cancelled', 'done']);
  });
});

describe('waitForTerminal', () => {
  async function running() {
    const evaluation = await submitOne(p);
    return claim(p, evaluation.id, 'w1');
  }

  it('resolves with the finished evaluation when it ends', async () => {
    const evaluation = await running();
    const waiting = p.service().waitForTerminal(evaluation.id, 10_000);
    await new Promise((r) => setTimeout(r, 10));
    await p.lifecycle.finish(evaluation.id, resultWithoutRun(evaluation, { platformError: 'test' }), { expectFrom: ['running'] });
    expect((await waiting).evaluation).toMatchObject({ id: evaluation.id, status: 'failed', reason: 'platform_error' });
  });

  it('returns the current state when the timeout runs out', async () => {
    const evaluation = await running();
    const startedAt = Date.now();
    expect((await p.service().waitForTerminal(evaluation.id, 60)).evaluation.status).toBe('running');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(55);
  });

  it('returns promptly when the waiting client goes away (aborted signal)', async () => {
    const evaluation = await running();
    const gone = new AbortController();
    const startedAt = Date.now();
    setTimeout(() => gone.abort(), 20);
    expect((await p.service().waitForTerminal(evaluation.id, 30_000, gone.signal)).evaluation.status).toBe('running');
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    const already = AbortSignal.abort();
    expect((await p.service().waitForTerminal(evaluation.id, 30_000, already)).evaluation.status).toBe('running');
  });
});
