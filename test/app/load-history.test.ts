/**
 * LoadHistorySampler (src/app/load-history.ts) on real SQLite and the embedded queue: samples of
 * queue depth and running count, every project's and one project's, bounded by age, and handed
 * out by GET /api/stats's use case.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoadHistorySampler } from '../../src/app/load-history.js';
import { SystemQueries } from '../../src/app/system-queries.js';
import type { Actor } from '../../src/domain/access.js';
import { claim, openInMemoryPlatform, request, submitOne, type InMemoryPlatform } from '../helpers/in-memory-platform.js';

const INTERVAL_MS = 2_000;
const KEEP_MS = 60_000;
const alpha: Actor = { id: 'key_alpha', role: 'researcher', project: 'alpha' };
const beta: Actor = { id: 'key_beta', role: 'researcher', project: 'beta' };

let p: InMemoryPlatform;
let sampler: LoadHistorySampler;
beforeEach(async () => {
  p = await openInMemoryPlatform();
  sampler = new LoadHistorySampler({ queue: p.queue, stats: p.storage.stats, log: p.log }, { intervalMs: INTERVAL_MS, keepMs: KEEP_MS });
});
afterEach(async () => {
  await sampler.stop();
  await p.close();
});

const submitAs = async (actor: Actor) => (await p.service().submit([request()], actor))[0]!;

describe('LoadHistorySampler', () => {
  it('records queue depth and running count over time, oldest first', async () => {
    const t0 = Date.now();
    await sampler.sample(t0);
    const first = await submitOne(p);
    await submitOne(p);
    await sampler.sample(t0 + INTERVAL_MS);
    await claim(p, first.id, 'w1');
    await sampler.sample(t0 + 2 * INTERVAL_MS);
    expect(sampler.since(t0)).toEqual([
      { at: new Date(t0).toISOString(), queued: 0, running: 0 },
      { at: new Date(t0 + INTERVAL_MS).toISOString(), queued: 2, running: 0 },
      { at: new Date(t0 + 2 * INTERVAL_MS).toISOString(), queued: 1, running: 1 },
    ]);
    expect(sampler.since(t0 + INTERVAL_MS).map((s) => s.queued)).toEqual([2, 1]);
  });

  it("gives a project only its own numbers (zeros where it had nothing), every project's sums otherwise", async () => {
    const t0 = Date.now();
    await claim(p, (await submitAs(alpha)).id, 'w1');
    await submitAs(alpha);
    await submitAs(beta);
    await sampler.sample(t0);
    expect(sampler.since(t0)).toEqual([{ at: new Date(t0).toISOString(), queued: 2, running: 1 }]);
    expect(sampler.since(t0, 'alpha')).toEqual([{ at: new Date(t0).toISOString(), queued: 1, running: 1 }]);
    expect(sampler.since(t0, 'beta')).toEqual([{ at: new Date(t0).toISOString(), queued: 1, running: 0 }]);
    expect(sampler.since(t0, 'gamma')).toEqual([{ at: new Date(t0).toISOString(), queued: 0, running: 0 }]);
  });

  it('keeps only the configured span of samples', async () => {
    const t0 = Date.now();
    const ticks = KEEP_MS / INTERVAL_MS + 10;
    for (let i = 0; i < ticks; i++) await sampler.sample(t0 + i * INTERVAL_MS);
    const kept = sampler.since(0);
    expect(kept).toHaveLength(KEEP_MS / INTERVAL_MS + 1);
    expect(Date.parse(kept[0]!.at)).toBe(t0 + (ticks - 1) * INTERVAL_MS - KEEP_MS);
    // A clock stepping back does not let the buffer grow past its count either.
    for (let i = 0; i < 5; i++) await sampler.sample(t0);
    expect(sampler.since(0)).toHaveLength(KEEP_MS / INTERVAL_MS + 1);
  });

  it('skips a sample when storage fails, and samples again on the next tick', async () => {
    const broken = new LoadHistorySampler(
      {
        queue: p.queue,
        stats: {
          activeByProject: () => Promise.reject(new Error('database is down')),
        },
        log: p.log,
      },
      { intervalMs: INTERVAL_MS, keepMs: KEEP_MS },
    );
    await broken.sample();
    expect(broken.since(0)).toEqual([]);
    expect(p.log.lines.some((l) => l.level === 'debug' && l.msg === 'load sample skipped')).toBe(true);
  });

  it('start() samples at once, and stats() hands the history out within its window and scoped like the queue view', async () => {
    await submitAs(alpha);
    sampler.start();
    await sampler.sample(); // waits for the sample start() took
    const system = new SystemQueries(
      { storage: p.storage, queue: p.queue, bus: p.bus, sandboxes: {}, loadHistory: sampler },
      { maxQueueDepth: 50, livenessWindowMs: 5_000 },
    );
    const admin = await system.stats(15, 60);
    expect(admin.load.interval_s).toBe(2);
    expect(admin.load.samples.length).toBeGreaterThanOrEqual(1);
    expect(admin.load.samples[0]).toMatchObject({ queued: 1, running: 0 });
    expect((await system.stats(15, 60, beta)).load.samples[0]).toMatchObject({ queued: 0, running: 0 });
    expect((await system.stats(15, 60, alpha)).load.samples[0]).toMatchObject({ queued: 1, running: 0 });

    const withoutHistory = new SystemQueries({ storage: p.storage, queue: p.queue, bus: p.bus, sandboxes: {} }, { maxQueueDepth: 50, livenessWindowMs: 5_000 });
    expect((await withoutHistory.stats(15, 60)).load).toEqual({ interval_s: 0, samples: [] });
  });
});
