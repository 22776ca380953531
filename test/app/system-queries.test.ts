/** SystemQueries (src/app/system-queries.ts): queue, workers, stats, config and readiness views. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SystemQueries } from '../../src/app/system-queries.js';
import { resultWithoutRun } from '../../src/app/verdicts.js';
import { ENVIRONMENTS } from '../../src/domain/evaluation.js';
import { LIMIT_BOUNDS } from '../../src/domain/limits.js';
import type { EventBus } from '../../src/ports/bus.js';
import type { JobQueue } from '../../src/ports/queue.js';
import { claim, failing, openInMemoryPlatform, registerWorker, submitOne, wrapBus, wrapQueue, type InMemoryPlatform } from '../helpers/in-memory-platform.js';
import { scriptedSandbox, type ScriptedSandbox } from '../helpers/scripted-sandbox.js';

const LIVENESS_MS = 5_000;

let p: InMemoryPlatform;
let bubblewrap: ScriptedSandbox;
let gvisor: ScriptedSandbox;
beforeEach(async () => {
  p = await openInMemoryPlatform();
  bubblewrap = scriptedSandbox({ steps: [] }, 'bubblewrap');
  gvisor = scriptedSandbox({ steps: [] }, 'gvisor');
});
afterEach(() => p.close());

function queries(ports: { queue?: JobQueue; bus?: EventBus } = {}): SystemQueries {
  return new SystemQueries(
    { storage: p.storage, queue: ports.queue ?? p.queue, bus: ports.bus ?? p.bus, sandboxes: { bubblewrap, gvisor } },
    { maxQueueDepth: 50, livenessWindowMs: LIVENESS_MS },
  );
}

describe('SystemQueries', () => {
  it('queue(): counts per status (every status present), depth, maximum and the oldest queued', async () => {
    const oldest = await submitOne(p);
    await submitOne(p);
    const running = await submitOne(p);
    await claim(p, running.id, 'w1');
    const view = await queries().queue();
    expect(view.counts).toEqual({ queued: 2, provisioning: 0, running: 1, completed: 0, failed: 0, timeout: 0, cancelled: 0 });
    expect(view).toMatchObject({ depth: 2, max_depth: 50, oldest_queued_at: oldest.created_at });
    expect(view.oldest_queued_age_ms).toBeGreaterThanOrEqual(0);
  });

  it('queue(): no oldest age when nothing is queued', async () => {
    expect(await queries().queue()).toMatchObject({ depth: 0, oldest_queued_at: null, oldest_queued_age_ms: null });
  });

  it('workers(): running counted from the evaluations, not the heartbeat, and the alive flag', async () => {
    await registerWorker(p.storage, 'busy', { running: 0 });
    await registerWorker(p.storage, 'stale', { running: 3, ageMs: 10 * LIVENESS_MS });
    for (const until of ['running', 'provisioning'] as const) await claim(p, (await submitOne(p)).id, 'busy', until);
    const view = await queries().workers();
    expect(view.liveness_window_ms).toBe(LIVENESS_MS);
    expect(view.workers.map((w) => ({ id: w.id, running: w.running, alive: w.alive }))).toEqual([
      { id: 'busy', running: 2, alive: true },
      { id: 'stale', running: 0, alive: false },
    ]);
  });

  it('stats(): terminal evaluations in time buckets', async () => {
    const done = await submitOne(p);
    await p.lifecycle.finish(done.id, resultWithoutRun(done, { cancelled: true }), { expectFrom: ['queued'] });
    const failed = await submitOne(p);
    await p.lifecycle.finish(failed.id, resultWithoutRun(failed, { platformError: 'x' }), { expectFrom: ['queued'] });
    const view = await queries().stats(5, 60);
    expect(view.bucket_s).toBe(60);
    const totals = view.buckets.reduce(
      (t, b) => ({ cancelled: t.cancelled + b.cancelled, failed: t.failed + b.failed, completed: t.completed + b.completed }),
      {
        cancelled: 0,
        failed: 0,
        completed: 0,
      },
    );
    expect(totals).toEqual({ cancelled: 1, failed: 1, completed: 0 });
  });

  it('config(): limits, environments and each sandbox with its health', async () => {
    gvisor.setHealth({ ok: false, detail: 'runsc not found' });
    const view = await queries().config();
    expect(view.limits).toEqual(LIMIT_BOUNDS);
    expect(view.environments).toEqual([...ENVIRONMENTS]);
    expect(view.sandboxes).toEqual([
      { name: 'bubblewrap', available: true, detail: 'scripted' },
      { name: 'gvisor', available: false, detail: 'runsc not found' },
    ]);
    expect(view.exit_code_guide.length).toBeGreaterThan(0);
  });

  it('readiness(): ok when everything answers', async () => {
    expect(await queries().readiness()).toEqual({
      ready: true,
      report: {
        status: 'ok',
        checks: { storage: { ok: true }, queue: { ok: true }, bus: { ok: true }, 'sandbox:bubblewrap': { ok: true }, 'sandbox:gvisor': { ok: true } },
      },
    });
  });

  it('readiness(): degraded, but ready, when a sandbox backend is unhealthy', async () => {
    gvisor.setHealth({ ok: false, detail: 'runsc not found' });
    const { ready, report } = await queries().readiness();
    expect(ready).toBe(true);
    expect(report.status).toBe('degraded');
    expect(report.checks['sandbox:gvisor']).toEqual({ ok: false, detail: 'runsc not found' });
  });

  it('readiness(): unavailable when the bus or the queue does not answer', async () => {
    const busDown = await queries({ bus: wrapBus(p.bus, { ping: failing('bus') }) }).readiness();
    expect(busDown).toMatchObject({
      ready: false,
      report: { status: 'unavailable', checks: { bus: { ok: false, detail: 'bus is down' }, queue: { ok: true } } },
    });
    const queueDown = await queries({ queue: wrapQueue(p.queue, { ping: failing('queue') }) }).readiness();
    expect(queueDown).toMatchObject({
      ready: false,
      report: { status: 'unavailable', checks: { queue: { ok: false, detail: 'queue is down' }, bus: { ok: true } } },
    });
  });
});
