import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedQueue } from '../../src/queue/embedded-queue.js';
import type { JobQueue } from '../../src/ports/queue.js';
import type { JobsDatabase } from '../../src/queue/sqlite-jobs.js';
import { createSqliteKysely, createSqliteStorage, sqliteFilename } from '../../src/storage/sqlite.js';

/** A queue on a connection of its own to the data directory's database (as another process would have). */
function ownConnection(dataDir: string) {
  const filename = sqliteFilename({ dataDir });
  return { db: createSqliteKysely(filename).withTables<JobsDatabase>(), filename, ownsDb: true };
}
import { job, queueContract, waitFor } from './contract.js';

const root = mkdtempSync(join(tmpdir(), 'crucible-embedded-queue-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The production wiring: the queue shares the store's connection; closing the queue closes both here. */
async function openShared(dataDir: string, retry?: { maxAttempts: number; backoffMs: number }): Promise<JobQueue> {
  const filename = sqliteFilename({ dataDir });
  const db = createSqliteKysely(filename);
  const store = createSqliteStorage({ db });
  await store.init();
  const queue = createEmbeddedQueue({ db: db.withTables<JobsDatabase>(), filename }, { retry });
  const close = queue.close.bind(queue);
  queue.close = async () => {
    await close();
    await store.close();
  };
  return queue;
}

queueContract('embedded (SQLite)', {
  async namespace() {
    const dataDir = join(root, String(n++));
    return { open: (retry) => openShared(dataDir, retry), destroy: async () => rmSync(dataDir, { recursive: true, force: true }) };
  },
});

describe('embedded queue restart', () => {
  const dataDir = join(root, 'restart');
  const dbFile = join(dataDir, 'crucible.db');

  /** What a SIGKILLed process leaves behind: an active job held by a process token that is gone. */
  function orphan(evaluationId: string, attempts: number) {
    const db = new BetterSqlite3(dbFile);
    db.prepare(`update queue_jobs set state = 'active', owner = 'gone-host:1:dead', attempts = ? where evaluation_id = ?`).run(attempts, evaluationId);
    db.close();
  }

  it('makes jobs held by a dead process deliverable again, and exhausts one that keeps killing its process', async () => {
    const first = createEmbeddedQueue(ownConnection(dataDir));
    await first.enqueue([job('orphaned'), job('poison')]);
    await first.close();
    orphan('orphaned', 1);
    orphan('poison', 3);

    const second = createEmbeddedQueue(ownConnection(dataDir), { retry: { maxAttempts: 3, backoffMs: 10 } });
    const got: Array<[string, number]> = [];
    const exhausted: string[] = [];
    const consumer = second.consume({
      workerId: 'w',
      concurrency: 2,
      environments: ['python'],
      handler: async (j, attempt) => void got.push([j.evaluationId, attempt]),
      onExhausted: async (j, err) => void exhausted.push(`${j.evaluationId}: ${err.message}`),
    });
    await waitFor(() => got.length === 1 && exhausted.length === 1, 5000, 'recovery');
    expect(got).toEqual([['orphaned', 2]]);
    expect(exhausted[0]).toMatch(/^poison: gave up after 3 deliveries/);
    await consumer.close();
    expect(await second.depth()).toBe(0);
    await second.close();
  });

  it('shares wakeups between queue instances on the same file in one process', async () => {
    const dir = join(root, 'two-instances');
    const producer = createEmbeddedQueue(ownConnection(dir), { pollIntervalMs: 60_000 });
    const consumerQueue = createEmbeddedQueue(ownConnection(dir), { pollIntervalMs: 60_000 });
    const got: string[] = [];
    const consumer = consumerQueue.consume({
      workerId: 'w',
      concurrency: 1,
      environments: ['python'],
      handler: async (j) => void got.push(j.evaluationId),
      onExhausted: async () => {},
    });
    await consumerQueue.ping();
    const t0 = performance.now();
    await producer.enqueue([job('x')]);
    await waitFor(() => got.length === 1, 2000, 'delivery across instances');
    expect(performance.now() - t0).toBeLessThan(100);
    await consumer.close();
    await Promise.all([producer.close(), consumerQueue.close()]);
  });

  it('deletes finished jobs in batches: every row is gone once the queue closes, and none is delivered again', async () => {
    const dir = join(root, 'batched-completion');
    const first = createEmbeddedQueue(ownConnection(dir));
    const got: string[] = [];
    const consumer = first.consume({
      workerId: 'w',
      concurrency: 2,
      environments: ['python'],
      handler: async (j) => void got.push(j.evaluationId),
      onExhausted: async () => {},
    });
    await first.enqueue(Array.from({ length: 30 }, (_, i) => job(`done-${i}`)));
    await waitFor(() => got.length === 30, 10_000, 'every delivery');
    await consumer.close();
    await first.close();
    const db = new BetterSqlite3(join(dir, 'crucible.db'));
    expect(db.prepare('select count(*) as n from queue_jobs').get()).toEqual({ n: 0 });
    db.close();

    const second = createEmbeddedQueue(ownConnection(dir));
    const again: string[] = [];
    const next = second.consume({
      workerId: 'w',
      concurrency: 2,
      environments: ['python'],
      handler: async (j) => void again.push(j.evaluationId),
      onExhausted: async () => {},
    });
    await second.enqueue([job('after')]);
    await waitFor(() => again.length === 1, 5000, 'the new job');
    await next.close();
    await second.close();
    expect(again).toEqual(['after']);
  });
});
