/** Reaper (src/app/reaper.ts): evaluations of dead workers, and queued ones the queue lost. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Reaper, type ReaperOptions } from '../../src/app/reaper.js';
import { claim, expectGapFree, openInMemoryPlatform, registerWorker, storedEvents, submitOne, type InMemoryPlatform } from '../helpers/in-memory-platform.js';

const LIVENESS_MS = 1_000;

let p: InMemoryPlatform;
beforeEach(async () => {
  p = await openInMemoryPlatform();
});
afterEach(() => p.close());

function reaper(options: Partial<ReaperOptions> = {}): Reaper {
  return new Reaper(
    { storage: p.storage, queue: p.queue, lifecycle: p.lifecycle, log: p.log },
    { livenessWindowMs: LIVENESS_MS, maxAttempts: 3, requeueAfterMs: 60_000, ...options },
  );
}

/** An evaluation running on `worker`, whose last heartbeat was `ageMs` ago. */
async function runningOn(worker: string, ageMs: number, until: 'provisioning' | 'running' = 'running') {
  await registerWorker(p.storage, worker, { ageMs });
  const { id } = await submitOne(p);
  await claim(p, id, worker, until);
  return id;
}

describe('Reaper', () => {
  it("re-queues a dead worker's running evaluation below maxAttempts and forgets the worker", async () => {
    const id = await runningOn('dead', 5 * LIVENESS_MS);
    await reaper().sweep();

    const evaluation = await p.storage.evaluations.get(id);
    expect(evaluation).toMatchObject({ status: 'queued', worker: null, attempts: 1 });
    expect(evaluation!.message).toMatch(/^Re-queued: worker dead stopped while the evaluation was running \(attempt 1 of 3\)/);
    expect(await p.queuedJobs()).toEqual([id]);
    expect(await p.storage.workers.list()).toEqual([]);
    expect(expectGapFree(await storedEvents(p.storage, id))).toEqual(['status:queued', 'status:provisioning', 'status:running', 'status:queued']);
  });

  it('re-queues an evaluation a dead worker held while provisioning', async () => {
    const id = await runningOn('dead', 5 * LIVENESS_MS, 'provisioning');
    await reaper().sweep();
    expect((await p.storage.evaluations.get(id))?.status).toBe('queued');
    expect(await p.queuedJobs()).toEqual([id]);
  });

  it('fails it as platform_error once it was tried maxAttempts times', async () => {
    const id = await runningOn('dead', 5 * LIVENESS_MS);
    await reaper({ maxAttempts: 1 }).sweep();

    const evaluation = await p.storage.evaluations.get(id);
    expect(evaluation).toMatchObject({ status: 'failed', reason: 'platform_error' });
    expect(evaluation!.message).toContain('already tried 1 times');
    expect(await p.queuedJobs()).toEqual([]);
    expect(expectGapFree(await storedEvents(p.storage, id)).slice(-2)).toEqual(['status:failed', 'done']);
  });

  it("leaves a live worker's evaluation alone", async () => {
    const id = await runningOn('alive', 0);
    await reaper().sweep();
    expect((await p.storage.evaluations.get(id))?.status).toBe('running');
    expect(await p.queuedJobs()).toEqual([]);
    expect((await p.storage.workers.list()).map((w) => w.id)).toEqual(['alive']);
  });

  it('takes a worker for dead when presumeDead says so, however fresh its heartbeat', async () => {
    const id = await runningOn('alive', 0);
    const other = await runningOn('other', 0);
    await reaper().sweep({ presumeDead: (worker) => worker === 'alive' });
    expect((await p.storage.evaluations.get(id))?.status).toBe('queued');
    expect((await p.storage.evaluations.get(other))?.status).toBe('running');
    expect((await p.storage.workers.list()).map((w) => w.id)).toEqual(['other']);
  });

  it('never takes a worker of its own process for dead', async () => {
    const id = await runningOn('local', 5 * LIVENESS_MS);
    const r = reaper();
    r.start(60_000, ['local']);
    await r.sweep();
    await r.stop();
    expect((await p.storage.evaluations.get(id))?.status).toBe('running');
  });

  it('keeps its own workers alive even when their registry row is gone (removed by another reaper)', async () => {
    const id = await runningOn('local', 0);
    await p.storage.workers.remove('local');
    const r = reaper();
    r.start(60_000, ['local']);
    await r.sweep();
    await r.stop();
    expect((await p.storage.evaluations.get(id))?.status).toBe('running');
  });

  it('takes no stale heartbeat for a death right after its own storage calls failed (an outage)', async () => {
    const id = await runningOn('w1', 5 * LIVENESS_MS);
    const r = reaper();
    const list = p.storage.workers.list.bind(p.storage.workers);
    p.storage.workers.list = () => Promise.reject(new Error('storage unavailable'));
    await r.sweep();
    p.storage.workers.list = list;
    await r.sweep();
    expect((await p.storage.evaluations.get(id))?.status).toBe('running');
  });

  it('enqueues again queued evaluations missing from the queue, once older than requeueAfterMs', async () => {
    const { id } = await submitOne(p);
    await p.queue.remove(id); // lost, e.g. by a Redis restart
    await reaper({ requeueAfterMs: 60_000 }).sweep();
    expect(await p.queuedJobs()).toEqual([]);

    await new Promise((r) => setTimeout(r, 5));
    await reaper({ requeueAfterMs: 1 }).sweep();
    expect(await p.queuedJobs()).toEqual([id]);
    expect((await p.storage.evaluations.get(id))?.status).toBe('queued');
  });

  it('leaves the queue alone when it holds every queued evaluation', async () => {
    const first = await submitOne(p);
    const second = await submitOne(p);
    await reaper({ requeueAfterMs: 0 }).sweep();
    expect(await p.queuedJobs()).toEqual([first.id, second.id]);
    expect(p.log.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });
});
