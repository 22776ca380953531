/**
 * The use cases on the real in-memory adapters, for fast unit tests of src/app and src/worker:
 * SQLite in memory (one connection shared by the store and the embedded queue, as
 * src/main/adapters.ts wires them), the in-process bus, a silent logger. Plus the few fixtures the
 * use-case tests share (requests, workers, recorded bus channels, error assertions).
 */
import { expect } from 'vitest';
import { EnvironmentQueries } from '../../src/app/environments.js';
import { EvaluationLifecycle } from '../../src/app/evaluation-lifecycle.js';
import { EvaluationService, type EvaluationServiceOptions } from '../../src/app/evaluation-service.js';
import { EventLogReader } from '../../src/app/event-log-reader.js';
import type { CreateEvaluationRequest, Environment, Evaluation, EvaluationStatus, EvaluationSummary, SandboxBackendName } from '../../src/domain/evaluation.js';
import { EvaluationEvent as EventSchema, type EvaluationEvent } from '../../src/domain/events.js';
import { createMemoryBus } from '../../src/events/memory-bus.js';
import type { EventBus } from '../../src/ports/bus.js';
import type { Logger } from '../../src/ports/logger.js';
import type { MemoryReclaimer } from '../../src/ports/memory.js';
import type { JobQueue } from '../../src/ports/queue.js';
import type { Storage, WorkerInfo } from '../../src/ports/storage.js';
import { createEmbeddedQueue } from '../../src/queue/embedded-queue.js';
import type { JobsDatabase } from '../../src/queue/sqlite-jobs.js';
import { createSqliteKysely, createSqliteStorage } from '../../src/storage/sqlite.js';
import { FileEnvironmentCatalogue } from '../../src/sandbox/environments/catalogue.js';

export { expectCrucibleError } from './expect-error.js';

/** A logger that prints nothing and remembers what was logged, by level. */
export interface RecordingLogger extends Logger {
  readonly lines: Array<{ level: 'info' | 'warn' | 'error' | 'debug'; obj: object | string; msg?: string }>;
}

export function silentLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at = (level: RecordingLogger['lines'][number]['level']) => (obj: object | string, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

export interface InMemoryPlatform {
  storage: Storage;
  queue: JobQueue;
  bus: EventBus;
  log: RecordingLogger;
  lifecycle: EvaluationLifecycle;
  reader: EventLogReader;
  /** Evaluation ids with a job waiting in the queue, in FIFO order. */
  queuedJobs(): Promise<string[]>;
  /** An EvaluationService on these adapters (queue/bus replaceable, e.g. by failing wrappers). */
  service(options?: Partial<EvaluationServiceOptions>, ports?: { queue?: JobQueue; bus?: EventBus; memory?: MemoryReclaimer }): EvaluationService;
  close(): Promise<void>;
}

export const SERVICE_DEFAULTS: EvaluationServiceOptions = { maxQueueDepth: 100, cancelGraceMs: 2_000, livenessWindowMs: 10_000 };

export async function openInMemoryPlatform(options: { pollMs?: number } = {}): Promise<InMemoryPlatform> {
  const filename = ':memory:';
  const db = createSqliteKysely(filename);
  const storage = createSqliteStorage({ db });
  await storage.init();
  const jobsDb = db.withTables<JobsDatabase>();
  // A long fallback poll: nothing in these tests consumes the queue.
  const queue = createEmbeddedQueue({ db: jobsDb, filename }, { pollIntervalMs: 60_000 });
  const bus = createMemoryBus();
  const log = silentLogger();
  const lifecycle = new EvaluationLifecycle({ storage, bus, log });
  const reader = new EventLogReader({ storage, bus }, { pollMs: options.pollMs ?? 60_000 });
  return {
    storage,
    queue,
    bus,
    log,
    lifecycle,
    reader,
    async queuedJobs() {
      await queue.depth(); // the queue creates its table lazily
      const rows = await jobsDb.selectFrom('queue_jobs').select('evaluation_id').where('state', '=', 'waiting').orderBy('seq').execute();
      return rows.map((r) => r.evaluation_id);
    },
    service(overrides = {}, ports = {}) {
      const options = { ...SERVICE_DEFAULTS, ...overrides };
      // The repository's real manifests; environments are "served" by the workers registered in storage.
      const environments = new EnvironmentQueries({
        catalogue: new FileEnvironmentCatalogue(),
        workers: () => storage.workers.list(),
        sandboxes: {},
        livenessWindowMs: options.livenessWindowMs,
      });
      return new EvaluationService(
        { storage, queue: ports.queue ?? queue, bus: ports.bus ?? bus, lifecycle, reader, environments, log, memory: ports.memory },
        options,
      );
    },
    async close() {
      await bus.close();
      await queue.close();
      await storage.close();
    },
  };
}

/** A valid, fully defaulted submission (what the API hands the service after zod parsing). */
export function request(overrides: Partial<CreateEvaluationRequest> = {}): CreateEvaluationRequest {
  return { code: 'print("hi")', environment: 'python', sandbox: 'bubblewrap', tags: [], metadata: {}, ...overrides };
}

/** Submits one evaluation through the service (stored queued, enqueued, published). */
export async function submitOne(platform: InMemoryPlatform, overrides: Partial<CreateEvaluationRequest> = {}): Promise<Evaluation> {
  const [evaluation] = await platform.service().submit([request(overrides)]);
  return evaluation!;
}

/**
 * Takes a queued evaluation as worker `worker` would: out of the queue, claimed (provisioning,
 * attempts + 1) and, unless `until` says provisioning, started (running).
 */
export async function claim(platform: InMemoryPlatform, id: string, worker: string, until: 'provisioning' | 'running' = 'running'): Promise<EvaluationSummary> {
  await platform.queue.remove(id);
  const claimed = await platform.lifecycle.transition(id, 'provisioning', { worker, increment_attempts: true }, { expectFrom: ['queued'] });
  expect(claimed, `claim ${id}`).not.toBeNull();
  if (until === 'provisioning') return claimed!.evaluation;
  const started = await platform.lifecycle.transition(id, 'running', { started_at: new Date().toISOString() }, { expectFrom: ['provisioning'] });
  return started!.evaluation;
}

/** Announces a worker whose last heartbeat was `ageMs` ago. */
export async function registerWorker(
  storage: Storage,
  id: string,
  options: { ageMs?: number; sandboxes?: SandboxBackendName[]; running?: number; environments?: Environment[] } = {},
): Promise<WorkerInfo> {
  const now = Date.now();
  const worker: WorkerInfo = {
    id,
    host: 'test-host',
    pid: 4242,
    capacity: 4,
    running: options.running ?? 0,
    environments: options.environments ?? ['python'],
    sandboxes: options.sandboxes ?? ['bubblewrap'],
    started_at: new Date(now - 60_000).toISOString(),
    last_seen: new Date(now - (options.ageMs ?? 0)).toISOString(),
  };
  await storage.workers.upsert(worker);
  return worker;
}

/** Every payload published on a channel from now on. */
export interface RecordedChannel {
  readonly payloads: string[];
  /** The payloads parsed as JSON. */
  json<T>(): T[];
  stop(): Promise<void>;
}

export async function recordChannel(bus: EventBus, channel: string): Promise<RecordedChannel> {
  const payloads: string[] = [];
  const subscription = await bus.subscribe(channel, (payload) => void payloads.push(payload));
  return {
    payloads,
    json: <T>() => payloads.map((p) => JSON.parse(p) as T),
    stop: () => subscription.unsubscribe(),
  };
}

/** Parses evaluation-channel payloads as events (throws on anything else). */
export function asEvents(payloads: string[]): EvaluationEvent[] {
  return payloads.map((p) => EventSchema.parse(JSON.parse(p)));
}

/** The evaluation's whole stored log. */
export function storedEvents(storage: Storage, id: string): Promise<EvaluationEvent[]> {
  return storage.events.after(id, 0, 10_000);
}

/** Asserts events are numbered from..from+n-1 without gaps, and returns their types (readable assertions). */
export function expectGapFree(events: EvaluationEvent[], from = 1): string[] {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => from + i));
  return events.map((e) => (e.type === 'status' ? `status:${e.data.status}` : e.type));
}

/** Polls `check` until it returns a truthy value (or fails after `timeoutMs`). */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 2_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until the evaluation reaches `status` in storage. */
export function waitForStatus(storage: Storage, id: string, status: EvaluationStatus, timeoutMs = 2_000): Promise<Evaluation> {
  return waitFor(
    async () => {
      const e = await storage.evaluations.get(id);
      return e?.status === status ? e : null;
    },
    timeoutMs,
    `${id} to be ${status}`,
  );
}

/** A bus that forwards to `inner`, with publish (or ping) replaced. */
export function wrapBus(inner: EventBus, overrides: Partial<Pick<EventBus, 'publish' | 'ping' | 'subscribe'>>): EventBus {
  return {
    publish: overrides.publish ?? ((channel, payload) => inner.publish(channel, payload)),
    subscribe: overrides.subscribe ?? ((channel, onMessage) => inner.subscribe(channel, onMessage)),
    ping: overrides.ping ?? (() => inner.ping()),
    close: () => inner.close(),
  };
}

/** A queue that forwards to `inner`, with some operations replaced (e.g. by failing ones). */
export function wrapQueue(inner: JobQueue, overrides: Partial<Pick<JobQueue, 'enqueue' | 'depth' | 'ping' | 'remove'>>): JobQueue {
  return {
    enqueue: overrides.enqueue ?? ((jobs) => inner.enqueue(jobs)),
    consume: (options) => inner.consume(options),
    remove: overrides.remove ?? ((id) => inner.remove(id)),
    depth: overrides.depth ?? (() => inner.depth()),
    ping: overrides.ping ?? (() => inner.ping()),
    close: () => inner.close(),
  };
}

export const failing = (what: string) => () => Promise.reject(new Error(`${what} is down`));
