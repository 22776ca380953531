import { describe, expect, it } from 'vitest';
import { CrucibleError } from '../../src/domain/errors.js';
import { createBullmqQueue } from '../../src/queue/bullmq-queue.js';
import { job, queueContract, waitFor } from './contract.js';
import { REDIS_URL, connectionNames, deleteKeys, testPrefix } from './redis-helpers.js';

queueContract('BullMQ (Redis)', {
  async namespace() {
    const prefix = testPrefix();
    return {
      open: async (retry) => createBullmqQueue({ connection: REDIS_URL, prefix, retry }),
      destroy: () => deleteKeys(prefix),
    };
  },
});

describe('BullMQ queue specifics', () => {
  it('rejects enqueue with queue_unavailable (503) when Redis cannot be reached, within a bounded time', async () => {
    const queue = createBullmqQueue({ connection: 'redis://127.0.0.1:1', prefix: testPrefix(), timeoutMs: 1000, onError: () => {} });
    const started = Date.now();
    const err = await queue.enqueue([job('x')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrucibleError);
    expect((err as CrucibleError).httpStatus).toBe(503);
    expect((err as CrucibleError).code).toBe('queue_unavailable');
    expect(Date.now() - started).toBeLessThan(2500);
    await expect(queue.ping()).rejects.toMatchObject({ code: 'queue_unavailable' });
    await queue.close();
  });

  it('serves every environment’s producer through one Redis connection, closed with the queue', async () => {
    const prefix = testPrefix();
    const queue = createBullmqQueue({ connection: REDIS_URL, prefix });
    try {
      await queue.enqueue([job('a', 'python'), job('b', 'python-data'), job('c', 'python-3.13')]);
      expect(await queue.depth()).toBe(3);
      expect(await queue.remove('b')).toBe(true);
      await queue.ping();
      expect(await connectionNames(prefix)).toEqual([`crucible-producer-${prefix}`]);
    } finally {
      await queue.close();
      await deleteKeys(prefix);
    }
    expect(await connectionNames(prefix)).toEqual([]);
  });
});

describe('BullMQ consumer of several environments', () => {
  it('holds few jobs it cannot run yet: idle workers elsewhere can still take them', async () => {
    const prefix = testPrefix();
    const queue = createBullmqQueue({ connection: REDIS_URL, prefix });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let running = 0;
    let done = 0;
    const consumer = queue.consume({
      workerId: 'several',
      concurrency: 2,
      environments: ['python', 'python-data', 'python-ml'],
      handler: async () => {
        running++;
        await gate;
        done++;
      },
      onExhausted: async () => {},
    });
    try {
      const environments = ['python', 'python-data', 'python-ml'] as const;
      await queue.enqueue(environments.flatMap((env) => [1, 2, 3, 4].map((i) => job(`${env}-${i}`, env))));
      await waitFor(() => running === 2, 5000, 'two running');
      await new Promise((r) => setTimeout(r, 300));
      // Two running; each environment's worker may have fetched at most the two slots that were free
      // when it started (see bullmq-queue.ts), so six or more stay in Redis for anyone.
      expect(running).toBe(2);
      expect(await queue.depth()).toBeGreaterThanOrEqual(6);
      release();
      await waitFor(() => done === 12, 30_000, 'all jobs');
    } finally {
      release();
      await consumer.close();
      await queue.close();
      await deleteKeys(prefix);
    }
  });
});

describe('BullMQ worker crash', () => {
  it('delivers the job of a SIGKILLed worker again after its lock expires', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const prefix = testPrefix();
    const queue = createBullmqQueue({ connection: REDIS_URL, prefix, lockDurationMs: 1000, stalledIntervalMs: 500 });
    const fixture = fileURLToPath(new URL('./fixtures/stalling-worker.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, REDIS_URL, prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const taken = new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('taken') && resolve()));
      await queue.enqueue([job('crashy')]);
      await taken;
      child.kill('SIGKILL');
      const killedAt = Date.now();
      const attempts: number[] = [];
      const consumer = queue.consume({
        workerId: 'survivor',
        concurrency: 1,
        environments: ['python'],
        handler: async (_j, attempt) => void attempts.push(attempt),
        onExhausted: async () => {},
      });
      await waitFor(() => attempts.length === 1, 10_000, 're-delivery');
      expect(attempts).toEqual([2]);
      expect(Date.now() - killedAt).toBeLessThan(5000);
      await consumer.close();
    } finally {
      child.kill('SIGKILL');
      await queue.close();
      await deleteKeys(prefix);
    }
  });
});

describe('BullMQ connection loss', () => {
  it('producer and consumer recover by themselves after their Redis connections are killed', async () => {
    const { Redis } = await import('ioredis');
    const prefix = testPrefix();
    const queue = createBullmqQueue({ connection: REDIS_URL, prefix, timeoutMs: 1000, onError: () => {} });
    const admin = new Redis(REDIS_URL);
    const got: string[] = [];
    const consumer = queue.consume({
      workerId: 'resilient',
      concurrency: 1,
      environments: ['python'],
      handler: async (j) => void got.push(j.evaluationId),
      onExhausted: async () => {},
    });
    try {
      await queue.enqueue([job('before')]);
      await waitFor(() => got.length === 1, 5000, 'first delivery');

      // Every connection of this queue carries the test's unique prefix in its name: kill exactly those.
      const list = (await admin.client('LIST')) as string;
      const ids = list
        .split('\n')
        .filter((line) => / name=\S*/.exec(line)?.[0].includes(prefix))
        .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]!);
      expect(ids.length).toBeGreaterThanOrEqual(3); // producer, worker, worker's blocking connection
      for (const id of ids) await admin.client('KILL', 'ID', id);

      // The producer may answer 503 while it reconnects; a retry then succeeds.
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await queue.enqueue([job('after')]);
          break;
        } catch (err) {
          expect((err as CrucibleError).code).toBe('queue_unavailable');
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await waitFor(() => got.length === 2, 10_000, 'delivery after reconnect');
      expect(got).toEqual(['before', 'after']);
    } finally {
      admin.disconnect();
      await consumer.close();
      await queue.close();
      await deleteKeys(prefix);
    }
  });
});
