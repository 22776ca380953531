/** EvaluationLifecycle (src/app/evaluation-lifecycle.ts): persist, then publish. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EvaluationLifecycle } from '../../src/app/evaluation-lifecycle.js';
import { resultWithoutRun } from '../../src/app/verdicts.js';
import { EvaluationEvent as EventSchema, type NewEvaluationEvent, type StatusChange } from '../../src/domain/events.js';
import { channels } from '../../src/ports/bus.js';
import {
  asEvents,
  claim,
  expectGapFree,
  openInMemoryPlatform,
  recordChannel,
  silentLogger,
  storedEvents,
  submitOne,
  waitFor,
  wrapBus,
  type InMemoryPlatform,
} from '../helpers/in-memory-platform.js';
import { runResult } from '../helpers/scripted-sandbox.js';

let p: InMemoryPlatform;
beforeEach(async () => {
  p = await openInMemoryPlatform();
});
afterEach(() => p.close());

const output = (type: 'stdout' | 'stderr', text: string): NewEvaluationEvent => ({ type, at: new Date().toISOString(), data: { text } });

describe('EvaluationLifecycle', () => {
  it('publishes an event only once it is readable from the log', async () => {
    const { id } = await submitOne(p);
    const checks: Array<{ seq: number; persisted: boolean }> = [];
    // At the moment of each publish, is the published event already in storage?
    const bus = wrapBus(p.bus, {
      publish: async (channel, payload) => {
        if (channel === channels.evaluation(id)) {
          const event = EventSchema.parse(JSON.parse(payload));
          const stored = await p.storage.events.after(id, event.seq - 1, 1);
          checks.push({ seq: event.seq, persisted: stored[0]?.seq === event.seq && stored[0].type === event.type });
        }
        await p.bus.publish(channel, payload);
      },
    });
    const lifecycle = new EvaluationLifecycle({ storage: p.storage, bus, log: p.log });
    const seen = await recordChannel(p.bus, channels.evaluation(id));

    await lifecycle.transition(id, 'provisioning', { worker: 'w1' }, { expectFrom: ['queued'] });
    await lifecycle.transition(id, 'running', {}, { expectFrom: ['provisioning'] });
    await lifecycle.append({ id, tags: [] }, [output('stdout', 'hello\n')]);

    expect(checks).toEqual([2, 3, 4].map((seq) => ({ seq, persisted: true })));
    await waitFor(() => seen.payloads.length === 3);
    expect(expectGapFree(asEvents(seen.payloads), 2)).toEqual(['status:provisioning', 'status:running', 'stdout']);
  });

  it('publishes the status change on the global feed with the tags', async () => {
    const { id } = await submitOne(p, { tags: ['t1'] });
    const feed = await recordChannel(p.bus, channels.statusFeed);
    const moved = await p.lifecycle.transition(id, 'provisioning', { worker: 'w1' }, { expectFrom: ['queued'] });
    await waitFor(() => feed.payloads.length === 1);
    expect(feed.json<StatusChange>()).toEqual([expect.objectContaining({ id, status: 'provisioning', reason: null, tags: ['t1'], at: moved!.events[0]!.at })]);
  });

  it('publishes nothing and writes nothing for a rejected transition', async () => {
    const { id } = await submitOne(p);
    const seen = await recordChannel(p.bus, channels.evaluation(id));
    const feed = await recordChannel(p.bus, channels.statusFeed);

    expect(await p.lifecycle.transition(id, 'running', {}, { expectFrom: ['provisioning'] })).toBeNull();
    expect(await p.lifecycle.transition(id, 'completed')).toBeNull(); // not allowed from queued
    await claim(p, id, 'w1');
    expect(await p.lifecycle.transition(id, 'queued', { worker: null }, { expectWorker: 'someone-else' })).toBeNull();

    await new Promise((r) => setTimeout(r, 10));
    expect(asEvents(seen.payloads).map((e) => e.type === 'status' && e.data.status)).toEqual(['provisioning', 'running']);
    expect(feed.json<StatusChange>().map((c) => c.status)).toEqual(['provisioning', 'running']);
    expect(expectGapFree(await storedEvents(p.storage, id))).toEqual(['status:queued', 'status:provisioning', 'status:running']);
  });

  it('finish writes the pending output, then the status, then done, in one gap-free run', async () => {
    const { id } = await submitOne(p);
    const evaluation = await claim(p, id, 'w1');
    const seen = await recordChannel(p.bus, channels.evaluation(id));
    const result = runResult(evaluation.limits, { exitCode: 3 }, { stdout: 'a\nb\n', stderr: 'oops\n' });

    const moved = await p.lifecycle.finish(id, result, {
      expectFrom: ['running'],
      expectWorker: 'w1',
      precedingEvents: [output('stdout', 'b\n'), output('stderr', 'oops\n')],
    });

    expect(moved?.evaluation).toMatchObject({ status: 'failed', reason: 'exit_nonzero', exit_code: 3 });
    expect(await p.storage.evaluations.get(id)).toMatchObject({ stdout: 'a\nb\n', stderr: 'oops\n' });
    const stored = await storedEvents(p.storage, id);
    expect(expectGapFree(stored)).toEqual(['status:queued', 'status:provisioning', 'status:running', 'stdout', 'stderr', 'status:failed', 'done']);
    expect(stored.at(-1)).toMatchObject({ type: 'done', data: { status: 'failed', reason: 'exit_nonzero', exit_code: 3 } });
    await waitFor(() => seen.payloads.length === 4);
    expect(asEvents(seen.payloads)).toEqual(stored.slice(3));
  });

  it('append after the end is refused and publishes nothing', async () => {
    const evaluation = await submitOne(p);
    await p.lifecycle.finish(evaluation.id, resultWithoutRun(evaluation, { cancelled: true }), { expectFrom: ['queued'] });
    const seen = await recordChannel(p.bus, channels.evaluation(evaluation.id));
    expect(await p.lifecycle.append(evaluation, [output('stdout', 'late')])).toEqual([]);
    await new Promise((r) => setTimeout(r, 10));
    expect(seen.payloads).toEqual([]);
  });

  it('a failing bus does not fail the write: the change is stored and the failure logged', async () => {
    const { id } = await submitOne(p);
    const log = silentLogger();
    const lifecycle = new EvaluationLifecycle({ storage: p.storage, bus: wrapBus(p.bus, { publish: () => Promise.reject(new Error('bus down')) }), log });

    const moved = await lifecycle.transition(id, 'provisioning', { worker: 'w1' }, { expectFrom: ['queued'] });
    expect(moved?.evaluation.status).toBe('provisioning');
    expect((await p.storage.evaluations.get(id))?.status).toBe('provisioning');
    expect(log.lines).toEqual([expect.objectContaining({ level: 'warn', obj: expect.objectContaining({ err: 'Error: bus down', evaluation_id: id }) })]);
  });
});
