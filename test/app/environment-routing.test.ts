/**
 * Routing by environment on both real engines: embedded (SQLite jobs table) and scale-out
 * (PostgreSQL + BullMQ on Redis). Workers run in this process on a scripted sandbox that prints the
 * environment it was asked for, so each run shows where it was routed; the queue, storage and
 * worker registry are the real ones.
 */
import { EnvironmentQueries } from '../../src/app/environments.js';
import { FileEnvironmentCatalogue } from '../../src/sandbox/environments/catalogue.js';
import { afterEach, describe, expect, it } from 'vitest';
import { EvaluationLifecycle } from '../../src/app/evaluation-lifecycle.js';
import { EvaluationService } from '../../src/app/evaluation-service.js';
import { EventLogReader } from '../../src/app/event-log-reader.js';
import { SystemQueries } from '../../src/app/system-queries.js';
import type { Environment } from '../../src/domain/evaluation.js';
import { createMemoryBus } from '../../src/events/memory-bus.js';
import type { JobQueue } from '../../src/ports/queue.js';
import type { Storage } from '../../src/ports/storage.js';
import { createBullmqQueue } from '../../src/queue/bullmq-queue.js';
import { createPostgresStorage } from '../../src/storage/postgres.js';
import { Worker } from '../../src/worker/worker.js';
import { openInMemoryPlatform, request, silentLogger, waitForStatus } from '../helpers/in-memory-platform.js';
import { scriptedSandbox } from '../helpers/scripted-sandbox.js';
import { deleteKeys, REDIS_URL, testPrefix } from '../queue/redis-helpers.js';
import { dropSchema, PG_URL, testSchemaName } from '../storage/pg-helpers.js';

const LIVENESS_MS = 5_000;

interface Engine {
  storage: Storage;
  queue: JobQueue;
  close(): Promise<void>;
}

const engines: Array<[string, () => Promise<Engine>]> = [
  [
    'embedded (SQLite)',
    async () => {
      const p = await openInMemoryPlatform();
      return { storage: p.storage, queue: p.queue, close: () => p.close() };
    },
  ],
  [
    'scale-out (PostgreSQL + BullMQ)',
    async () => {
      const schema = testSchemaName();
      const prefix = testPrefix();
      const storage = createPostgresStorage({ connectionString: PG_URL, schema });
      await storage.init();
      const queue = createBullmqQueue({ connection: REDIS_URL, prefix });
      return {
        storage,
        queue,
        async close() {
          await queue.close();
          await storage.close();
          await dropSchema(schema);
          await deleteKeys(prefix);
        },
      };
    },
  ],
];

describe.each(engines)('routing by environment: %s', (_name, openEngine) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function deployment() {
    const engine = await openEngine();
    cleanups.push(() => engine.close());
    const { storage, queue } = engine;
    const bus = createMemoryBus();
    cleanups.push(() => bus.close());
    const log = silentLogger();
    const lifecycle = new EvaluationLifecycle({ storage, bus, log });
    const reader = new EventLogReader({ storage, bus }, { pollMs: 60_000 });
    const environments = new EnvironmentQueries({
      catalogue: new FileEnvironmentCatalogue(),
      workers: () => storage.workers.list(),
      sandboxes: {},
      livenessWindowMs: LIVENESS_MS,
    });
    const service = new EvaluationService(
      { storage, queue, bus, lifecycle, reader, environments, log },
      { maxQueueDepth: 100, cancelGraceMs: 2_000, livenessWindowMs: LIVENESS_MS },
    );
    const system = new SystemQueries({ storage, queue, bus, sandboxes: {} }, { maxQueueDepth: 100, livenessWindowMs: LIVENESS_MS });
    // The program's output is the environment it was run in.
    const sandbox = scriptedSandbox((spec) => ({ steps: [{ start: true }, { stdout: spec.environment }] }));
    async function startWorker(environments: Environment[]): Promise<Worker> {
      const worker = new Worker(
        { storage, queue, bus, lifecycle, sandboxes: { bubblewrap: sandbox }, log },
        { concurrency: 2, environments, heartbeatMs: 500 },
      );
      await worker.start();
      cleanups.push(() => worker.stop());
      return worker;
    }
    const submit = async (environment: Environment) => (await service.submit([request({ environment })]))[0]!;
    return { storage, service, system, startWorker, submit };
  }

  it('runs each evaluation on a worker serving its environment; one nobody serves waits, saying why, until a worker serving it starts', async () => {
    const { storage, service, system, startWorker, submit } = await deployment();
    const plain = await startWorker(['python']);
    const data = await startWorker(['python-data']);
    const submitted = [await submit('python'), await submit('python-data'), await submit('python'), await submit('python-data')];
    const ml = await submit('python-ml');
    expect(ml.waiting_reason).toMatch(/^No live worker serves environment "python-ml" \(live workers serve: python, python-data\)/);

    for (const e of submitted) {
      const done = await waitForStatus(storage, e.id, 'completed', 10_000);
      expect(done.worker).toBe(e.environment === 'python' ? plain.id : data.id);
      expect(done.stdout).toBe(e.environment);
    }

    const waiting = await service.get(ml.id);
    expect(waiting).toMatchObject({ status: 'queued', worker: null });
    expect(waiting.waiting_reason).toContain('crucible worker --environments python-ml');
    expect((await service.list({ limit: 10, status: undefined, tags: undefined, meta: undefined })).items.find((e) => e.id === ml.id)?.waiting_reason).toBe(
      waiting.waiting_reason,
    );

    const queue = await system.queue();
    expect(queue.unserved_environments).toEqual(['python-ml', 'python-3.13']);
    expect(queue.by_environment.map((q) => [q.environment, q.depth, q.live_workers])).toEqual([
      ['python', 0, 1],
      ['python-data', 0, 1],
      ['python-ml', 1, 0],
      ['python-3.13', 0, 0],
    ]);
    expect(queue.by_environment[2]).toMatchObject({ oldest_queued_at: ml.created_at });
    expect(queue.by_environment[2]!.oldest_queued_age_ms).toBeGreaterThanOrEqual(0);
    const listed = (await system.workers()).workers.map((w) => [w.id, w.environments]);
    expect(listed.sort()).toEqual(
      [
        [plain.id, ['python']],
        [data.id, ['python-data']],
      ].sort(),
    );

    const late = await startWorker(['python-ml', 'python-3.13']);
    const ran = await waitForStatus(storage, ml.id, 'completed', 10_000);
    expect(ran).toMatchObject({ worker: late.id, stdout: 'python-ml', waiting_reason: null });
    expect((await system.queue()).unserved_environments).toEqual([]);
  }, 30_000);

  it('with no live worker at all, a queued evaluation says so', async () => {
    const { service, submit } = await deployment();
    const e = await submit('python');
    expect((await service.get(e.id)).waiting_reason).toMatch(/^No live worker is running, so nothing serves environment "python"/);
  });
});
