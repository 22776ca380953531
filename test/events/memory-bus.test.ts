import { expect, it } from 'vitest';
import { createMemoryBus } from '../../src/events/memory-bus.js';
import { busContract } from './contract.js';

busContract('memory', async () => createMemoryBus({ onError: () => {} }));

it('memory bus: subscribe/unsubscribe cycles leave no channels behind', async () => {
  const bus = createMemoryBus();
  for (let i = 0; i < 1000; i++) {
    const sub = await bus.subscribe(`crucible:evaluation:${i}`, () => {});
    await sub.unsubscribe();
  }
  // Publishing to a channel after its last unsubscribe delivers nothing and keeps nothing.
  let got = 0;
  const sub = await bus.subscribe('x', () => got++);
  await sub.unsubscribe();
  await bus.publish('x', 'late');
  await new Promise((r) => setTimeout(r, 10));
  expect(got).toBe(0);
  await bus.close();
  await expect(bus.publish('x', 'y')).rejects.toThrow(/closed/);
});
