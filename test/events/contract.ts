/** The EventBus contract, run against the in-memory and the Redis bus. */
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBus } from '../../src/ports/bus.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw err;
      await sleep(5);
    }
  }
}

export function busContract(name: string, open: () => Promise<EventBus>): void {
  describe(`EventBus contract: ${name}`, () => {
    const buses: EventBus[] = [];
    const bus = async () => {
      const b = await open();
      buses.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((b) => b.close()));
    });

    it('delivers messages in order to every subscriber of the channel only', async () => {
      const b = await bus();
      await b.ping();
      const a1: string[] = [];
      const a2: string[] = [];
      const other: string[] = [];
      await b.subscribe('ch:a', (m) => a1.push(m));
      await b.subscribe('ch:a', (m) => a2.push(m));
      await b.subscribe('ch:b', (m) => other.push(m));
      for (let i = 0; i < 50; i++) await b.publish('ch:a', `m${i}`);
      const expected = Array.from({ length: 50 }, (_, i) => `m${i}`);
      await eventually(() => expect(a1).toEqual(expected));
      await eventually(() => expect(a2).toEqual(expected));
      expect(other).toEqual([]);
    });

    it('stops delivering after unsubscribe, without affecting other subscriptions', async () => {
      const b = await bus();
      const kept: string[] = [];
      const dropped: string[] = [];
      await b.subscribe('ch:u', (m) => kept.push(m));
      const sub = await b.subscribe('ch:u', (m) => dropped.push(m));
      await b.publish('ch:u', 'one');
      await eventually(() => expect(dropped).toEqual(['one']));
      await sub.unsubscribe();
      await sub.unsubscribe();
      await b.publish('ch:u', 'two');
      await eventually(() => expect(kept).toEqual(['one', 'two']));
      await sleep(50);
      expect(dropped).toEqual(['one']);
    });

    it('survives a throwing subscriber', async () => {
      const b = await bus();
      const got: string[] = [];
      await b.subscribe('ch:t', () => {
        throw new Error('subscriber bug');
      });
      await b.subscribe('ch:t', (m) => got.push(m));
      await b.publish('ch:t', 'x');
      await b.publish('ch:t', 'y');
      await eventually(() => expect(got).toEqual(['x', 'y']));
    });

    it('publishing to a channel nobody listens to is fine', async () => {
      const b = await bus();
      await b.publish('ch:nobody', 'x');
    });
  });
}
