/** EventLogReader (src/app/event-log-reader.ts): the replay-then-live protocol and untilTerminal. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventLogReader, type EventSink } from '../../src/app/event-log-reader.js';
import { resultWithoutRun } from '../../src/app/verdicts.js';
import type { EvaluationSummary } from '../../src/domain/evaluation.js';
import type { EvaluationEvent, NewEvaluationEvent } from '../../src/domain/events.js';
import { channels } from '../../src/ports/bus.js';
import {
  claim,
  expectCrucibleError,
  expectGapFree,
  openInMemoryPlatform,
  storedEvents,
  submitOne,
  waitFor,
  wrapBus,
  type InMemoryPlatform,
} from '../helpers/in-memory-platform.js';

/** A sink that records what it is sent; congestion and closing are driven by the test. */
class TestSink implements EventSink {
  readonly sent: EvaluationEvent[] = [];
  closed = false;
  congested = false;
  ended = false;
  private release: () => void = () => undefined;
  private drainedPromise: Promise<void> = Promise.resolve();
  private resolveDone: () => void = () => undefined;
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  send(event: EvaluationEvent): void {
    if (this.closed) throw new Error('send after close');
    this.sent.push(event);
  }
  drained(): Promise<void> {
    return this.drainedPromise;
  }
  congest(): void {
    this.congested = true;
    this.drainedPromise = new Promise((resolve) => (this.release = resolve));
  }
  uncongest(): void {
    this.congested = false;
    this.release();
  }
  end(): void {
    this.ended = true;
    this.close();
  }
  close(): void {
    this.closed = true;
    this.resolveDone();
  }
}

const stdout = (text: string): NewEvaluationEvent => ({ type: 'stdout', at: new Date().toISOString(), data: { text } });
const texts = (events: EvaluationEvent[]) => events.flatMap((e) => (e.type === 'stdout' ? [e.data.text] : []));

let p: InMemoryPlatform;
let evaluation: EvaluationSummary;
beforeEach(async () => {
  p = await openInMemoryPlatform(); // the fallback poll is a minute: only the bus or a gap can wake the reader
  evaluation = await claim(p, (await submitOne(p)).id, 'w1'); // seq 1-3: queued, provisioning, running
});
afterEach(() => p.close());

const finish = () => p.lifecycle.finish(evaluation.id, resultWithoutRun(evaluation, { cancelled: true }), { expectFrom: ['running'] });

describe('plan', () => {
  it('answers 404 not_found for an unknown evaluation', async () => {
    await expectCrucibleError(p.reader.plan('missing', 0), 'not_found', 404);
  });

  it('answers 400 invalid_last_event_id for an event the evaluation does not have', async () => {
    await expectCrucibleError(p.reader.plan(evaluation.id, 4), 'invalid_last_event_id', 400);
  });

  it('streams a live evaluation, and says complete once the client has the whole finished log', async () => {
    expect(await p.reader.plan(evaluation.id, 3)).toMatchObject({ kind: 'stream', evaluation: { id: evaluation.id, status: 'running' } });
    await finish();
    const last = (await storedEvents(p.storage, evaluation.id)).at(-1)!.seq;
    expect(await p.reader.plan(evaluation.id, last - 1)).toMatchObject({ kind: 'stream' });
    expect(await p.reader.plan(evaluation.id, last)).toEqual({ kind: 'complete' });
    expect(await p.reader.plan(evaluation.id, 0)).toMatchObject({ kind: 'stream' });
  });
});

describe('follow', () => {
  it('replays the history, then forwards live events gap-free, and ends after done', async () => {
    await p.lifecycle.append(evaluation, [stdout('old-1'), stdout('old-2')]);
    const sink = new TestSink();
    const following = p.reader.follow(evaluation.id, 1, sink);
    await waitFor(() => sink.sent.length === 4);
    await p.lifecycle.append(evaluation, [stdout('new-1')]);
    await p.lifecycle.append(evaluation, [stdout('new-2')]);
    await finish();
    await following;

    expect(sink.ended).toBe(true);
    expect(sink.sent).toEqual((await storedEvents(p.storage, evaluation.id)).slice(1));
    expect(expectGapFree(sink.sent, 2).slice(-2)).toEqual(['status:cancelled', 'done']);
    expect(texts(sink.sent)).toEqual(['old-1', 'old-2', 'new-1', 'new-2']);
  });

  it('recovers a bus message that was lost from storage', async () => {
    const sink = new TestSink();
    const following = p.reader.follow(evaluation.id, 0, sink);
    await waitFor(() => sink.sent.length === 3);
    await p.storage.events.append(evaluation.id, [stdout('never published')]); // seq 4, lost
    await p.lifecycle.append(evaluation, [stdout('published')]); // seq 5: a gap, so the reader reads storage
    await waitFor(() => sink.sent.length === 5);
    expect(texts(sink.sent)).toEqual(['never published', 'published']);
    await finish();
    await following;
    expect(expectGapFree(sink.sent).at(-1)).toBe('done');
  });

  it('puts events published out of order back in order', async () => {
    const sink = new TestSink();
    const following = p.reader.follow(evaluation.id, 0, sink);
    await waitFor(() => sink.sent.length === 3);
    const [four, five] = await p.storage.events.append(evaluation.id, [stdout('four'), stdout('five')]);
    await p.bus.publish(channels.evaluation(evaluation.id), JSON.stringify(five));
    await p.bus.publish(channels.evaluation(evaluation.id), JSON.stringify(four));
    await waitFor(() => sink.sent.length === 5);
    await finish();
    await following;
    expect(texts(sink.sent)).toEqual(['four', 'five']);
    expectGapFree(sink.sent);
  });

  it('waits for a congested sink before reading more', async () => {
    const sink = new TestSink();
    sink.congest();
    const following = p.reader.follow(evaluation.id, 0, sink);
    await p.lifecycle.append(evaluation, [stdout('while congested')]);
    await new Promise((r) => setTimeout(r, 30));
    expect(sink.sent).toEqual([]);
    sink.uncongest();
    await waitFor(() => sink.sent.length === 4);
    await finish();
    await following;
    expect(expectGapFree(sink.sent)).toEqual(['status:queued', 'status:provisioning', 'status:running', 'stdout', 'status:cancelled', 'done']);
  });

  it('stops, and unsubscribes, when the sink closes', async () => {
    let subscribed = 0;
    const bus = wrapBus(p.bus, {
      subscribe: async (channel, onMessage) => {
        subscribed++;
        const sub = await p.bus.subscribe(channel, onMessage);
        return { unsubscribe: () => (subscribed--, sub.unsubscribe()) };
      },
    });
    const reader = new EventLogReader({ storage: p.storage, bus }, { pollMs: 60_000 });
    const sink = new TestSink();
    const following = reader.follow(evaluation.id, 0, sink);
    await waitFor(() => sink.sent.length === 3);
    sink.close();
    await following;
    expect(subscribed).toBe(0);
    await p.lifecycle.append(evaluation, [stdout('after close')]);
    await new Promise((r) => setTimeout(r, 10));
    expect(sink.sent).toHaveLength(3);
    expect(sink.ended).toBe(false);
  });
});

describe('untilTerminal', () => {
  it('falls back to polling storage when the bus never says done', async () => {
    const deafBus = wrapBus(p.bus, { subscribe: () => Promise.resolve({ unsubscribe: () => Promise.resolve() }) });
    const reader = new EventLogReader({ storage: p.storage, bus: deafBus }, { pollMs: 20 });
    const read = async () => (await p.storage.evaluations.get(evaluation.id))!;
    const startedAt = Date.now();
    const waiting = reader.untilTerminal(evaluation.id, 30_000, read, (e) => e.status);
    await new Promise((r) => setTimeout(r, 30));
    await finish();
    expect((await waiting).status).toBe('cancelled');
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  it('returns at once for an evaluation that already ended', async () => {
    await finish();
    const read = async () => (await p.storage.evaluations.get(evaluation.id))!;
    expect((await p.reader.untilTerminal(evaluation.id, 30_000, read, (e) => e.status)).status).toBe('cancelled');
  });
});
