/**
 * Tracing in one process: off unless the standard OTEL_* variables ask for it; when on, a
 * submission's spans nest, and its trace context is written into the embedded queue's row (so a
 * job taken after a restart still continues the submitter's trace).
 */
import { EnvironmentQueries } from '../../src/app/environments.js';
import { FileEnvironmentCatalogue } from '../../src/sandbox/environments/catalogue.js';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_TRACING } from '../../src/app/no-tracing.js';
import { tracesExportersFromEnv, tracingFromEnvironment } from '../../src/main/tracing.js';
import type { QueueJob } from '../../src/ports/queue.js';
import { createEmbeddedQueue } from '../../src/queue/embedded-queue.js';
import type { JobsDatabase } from '../../src/queue/sqlite-jobs.js';
import { createSqliteKysely } from '../../src/storage/sqlite.js';
import { openTelemetryTracing } from '../../src/tracing/opentelemetry.js';
import { openInMemoryPlatform, request, type InMemoryPlatform } from '../helpers/in-memory-platform.js';

describe('whether a process traces', () => {
  it('is off by default and on with an exporter or an OTLP endpoint', async () => {
    expect(tracesExportersFromEnv({})).toEqual([]);
    expect(tracesExportersFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual(['otlp']);
    expect(tracesExportersFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toEqual(['otlp']);
    expect(tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'otlp,console' })).toEqual(['otlp', 'console']);
    expect(tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' })).toEqual([]);
    expect(tracesExportersFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toEqual([]);
    expect(await tracingFromEnvironment('serve', {})).toBe(NO_TRACING);
    const on = await tracingFromEnvironment('serve', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(on.enabled).toBe(true);
    await on.shutdown();
  });

  it('refuses exporters and protocols it does not ship, saying which work', async () => {
    await expect(tracingFromEnvironment('worker', { OTEL_TRACES_EXPORTER: 'zipkin' })).rejects.toThrow(
      /OTEL_TRACES_EXPORTER=zipkin is not supported; use otlp, console or none/,
    );
    await expect(tracingFromEnvironment('worker', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).rejects.toThrow(/http\/json/);
  });
});

describe('a traced submission in one process', () => {
  let platform: InMemoryPlatform | null = null;
  afterEach(async () => {
    await platform?.close();
    platform = null;
  });

  it('nests submit and enqueue, and puts the enqueue span’s context in the queue row', async () => {
    platform = await openInMemoryPlatform();
    const exporter = new InMemorySpanExporter();
    const tracing = openTelemetryTracing({ role: 'serve', version: 'test', exporters: exporter });
    const { storage, queue, bus, lifecycle, reader, log } = platform;
    const { EvaluationService } = await import('../../src/app/evaluation-service.js');
    const environments = new EnvironmentQueries({
      catalogue: new FileEnvironmentCatalogue(),
      workers: () => storage.workers.list(),
      sandboxes: {},
      livenessWindowMs: 10_000,
    });
    const service = new EvaluationService(
      { storage, queue, bus, lifecycle, reader, environments, log, tracing },
      { maxQueueDepth: 10, cancelGraceMs: 1000, livenessWindowMs: 10_000 },
    );
    const [evaluation] = await service.submit([request()]);
    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    const submit = byName.get('evaluation.submit')!;
    const enqueue = byName.get('queue.enqueue')!;
    expect(submit.attributes['crucible.evaluation.id']).toBe(evaluation!.id);
    expect(enqueue.parentSpanContext?.spanId).toBe(submit.spanContext().spanId);
    expect(enqueue.spanContext().traceId).toBe(submit.spanContext().traceId);

    const delivered = new Promise<QueueJob>((resolve) => {
      queue.consume({ workerId: 'w', concurrency: 1, environments: ['python'], handler: async (job) => resolve(job), onExhausted: async () => undefined });
    });
    const job = await delivered;
    expect(job.evaluationId).toBe(evaluation!.id);
    expect(job.trace?.traceparent).toBe(`00-${enqueue.spanContext().traceId}-${enqueue.spanContext().spanId}-01`);
    await tracing.shutdown();
  });

  it('writes no trace context when tracing is off', async () => {
    platform = await openInMemoryPlatform();
    const [evaluation] = await platform.service().submit([request()]);
    const delivered = new Promise<QueueJob>((resolve) => {
      platform!.queue.consume({
        workerId: 'w',
        concurrency: 1,
        environments: ['python'],
        handler: async (job) => resolve(job),
        onExhausted: async () => undefined,
      });
    });
    const job = await delivered;
    expect(job.evaluationId).toBe(evaluation!.id);
    expect(job.trace ?? null).toBeNull();
  });

  it('gives a queue table from before trace context its columns, keeping its jobs', async () => {
    const db = createSqliteKysely(':memory:');
    await sql`create table queue_jobs (seq integer primary key, evaluation_id text not null unique, environment text not null, sandbox text not null, state text not null, attempts integer not null, available_at integer not null, owner text, last_error text)`.execute(
      db,
    );
    await sql`insert into queue_jobs (evaluation_id, environment, sandbox, state, attempts, available_at) values ('ev_old', 'python', 'bubblewrap', 'waiting', 0, 0)`.execute(
      db,
    );
    const queue = createEmbeddedQueue({ db: db.withTables<JobsDatabase>(), filename: ':memory:' }, { pollIntervalMs: 60_000 });
    try {
      expect(await queue.depth()).toBe(1);
      const job = await new Promise<QueueJob>((resolve) => {
        queue.consume({ workerId: 'w', concurrency: 1, environments: ['python'], handler: async (j) => resolve(j), onExhausted: async () => undefined });
      });
      expect(job).toMatchObject({ evaluationId: 'ev_old', trace: null });
    } finally {
      await queue.close();
      await db.destroy();
    }
  });
});
