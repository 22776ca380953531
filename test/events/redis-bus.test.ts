import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisBus } from '../../src/events/redis-bus.js';
import { busContract, eventually, sleep } from './contract.js';

const REDIS_URL = process.env.CRUCIBLE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const uniquePrefix = () => `crucible-test-${randomBytes(6).toString('hex')}`;

busContract('Redis', async () => createRedisBus({ url: REDIS_URL, prefix: uniquePrefix(), onError: () => {} }));

describe('Redis bus specifics', () => {
  it('crosses processes (two buses) and keeps prefixes apart', async () => {
    const prefix = uniquePrefix();
    const a = createRedisBus({ url: REDIS_URL, prefix });
    const b = createRedisBus({ url: REDIS_URL, prefix });
    const other = createRedisBus({ url: REDIS_URL, prefix: uniquePrefix() });
    try {
      const got: string[] = [];
      const foreign: string[] = [];
      await b.subscribe('ch', (m) => got.push(m));
      await other.subscribe('ch', (m) => foreign.push(m));
      await a.publish('ch', 'hello');
      await eventually(() => expect(got).toEqual(['hello']));
      await sleep(50);
      expect(foreign).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  it('subscribes again after its connection is killed', async () => {
    const name = `crucible-test-bus-${randomBytes(6).toString('hex')}`;
    const prefix = uniquePrefix();
    const bus = createRedisBus({ url: REDIS_URL, prefix, connectionName: name, onError: () => {} });
    const admin = new Redis(REDIS_URL);
    try {
      const got: string[] = [];
      await bus.subscribe('ch', (m) => got.push(m));
      const dropped = await bus.subscribe('gone', () => {});
      await bus.publish('ch', 'before');
      await eventually(() => expect(got).toEqual(['before']));

      // Kill only this test's subscriber connection, found by its name.
      const list = (await admin.client('LIST')) as string;
      const line = list.split('\n').find((l) => l.includes(` name=${name}-sub `));
      expect(line).toBeDefined();
      const id = /(?:^|\s)id=(\d+)/.exec(line!)![1]!;
      await admin.client('KILL', 'ID', id);
      await dropped.unsubscribe(); // while disconnected: must not come back after reconnect

      // Messages sent during the gap may be lost; keep publishing until one arrives.
      await eventually(() => {
        void bus.publish('ch', 'after').catch(() => {});
        expect(got).toContain('after');
      }, 10_000);
      // Only channels that still have listeners were subscribed again.
      expect(await admin.pubsub('CHANNELS', `${prefix}:*`)).toEqual([`${prefix}:ch`]);
    } finally {
      admin.disconnect();
      await bus.close();
    }
  });

  it('fails fast when Redis is unreachable', async () => {
    const bus = createRedisBus({ url: 'redis://127.0.0.1:1', timeoutMs: 500, onError: () => {} });
    const started = Date.now();
    await expect(bus.publish('x', 'y')).rejects.toThrow();
    await expect(bus.ping()).rejects.toThrow();
    await expect(bus.subscribe('x', () => {})).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
    await bus.close();
  });
});
