/**
 * Tracing in one process: off unless the standard OTEL_* variables ask for it; when on, a
 * submission's spans nest, and its trace context is written into the embedded queue's row (so a
 * job taken after a restart still continues the submitter's trace).
 */
import { EnvironmentQueries } from '../../src/app/environments.js';
import { FileEnvironmentCatalogue } from '../../src/sandbox/environments/catalogue.js';
import { spawnSync } from 'node:child_process';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NO_TRACING } from '../../src/app/no-tracing.js';
import { tracesExportersFromEnv, tracingFromEnvironment } from '../../src/main/tracing.js';
import type { QueueJob } from '../../src/ports/queue.js';
import { createEmbeddedQueue } from '../../src/queue/embedded-queue.js';
import type { JobsDatabase } from '../../src/queue/sqlite-jobs.js';
import { createSqliteKysely } from '../../src/storage/sqlite.js';
import { openTelemetryTracing } from '../../src/tracing/opentelemetry.js';
import { openInMemoryPlatform, request, type InMemoryPlatform } from '../helpers/in-memory-platform.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { cliPath, tempDir } from '../helpers/server.js';

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
    await expect(tracingFromEnvironment('worker', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).rejects.toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported; .*use http\/protobuf or http\/json/,
    );
  });

  it('refuses a sampler it cannot honour, or a ratio that is not one, instead of sampling everything', async () => {
    const otlp = { OTEL_TRACES_EXPORTER: 'otlp' };
    await expect(tracingFromEnvironment('serve', { ...otlp, OTEL_TRACES_SAMPLER: 'jaeger_remote' })).rejects.toThrow(
      /OTEL_TRACES_SAMPLER=jaeger_remote is not supported; use one of always_on, always_off, traceidratio, parentbased_always_on/,
    );
    for (const arg of ['1.5', '-0.1', 'half']) {
      await expect(tracingFromEnvironment('serve', { ...otlp, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg })).rejects.toThrow(
        `OTEL_TRACES_SAMPLER_ARG=${arg} is not a sampling ratio; give a number from 0 to 1`,
      );
    }
  });
});

describe('a process started with tracing variables it cannot honour', () => {
  it.each([
    [
      'serve',
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported; Crucible exports OTLP over HTTP: use http/protobuf or http/json',
    ],
    [
      'worker',
      { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '10' },
      'OTEL_TRACES_SAMPLER_ARG=10 is not a sampling ratio; give a number from 0 to 1',
    ],
  ])('crucible %s stops at start, saying which variable and what works', (role, vars, message) => {
    const args =
      role === 'serve'
        ? ['serve', '--port', '0', '--data-dir', tempDir()]
        : ['worker', '--database-url', 'postgres://127.0.0.1:1/none', '--redis-url', 'redis://127.0.0.1:1'];
    const res = spawnSync(process.execPath, [cliPath, ...args], {
      env: { ...process.env, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...vars },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain(message);
  });
});

describe('sampling (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG)', () => {
  const SAMPLED_PARENT = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
  const UNSAMPLED_PARENT = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' };

  /** Runs a root span with a child, optionally under a remote parent; answers the spans exported and the trace id logs would carry. */
  async function trace(env: Record<string, string>, parent?: { traceparent: string }) {
    const exporter = new InMemorySpanExporter();
    const tracing = openTelemetryTracing({ role: 'worker', version: 'test', exporters: exporter, env });
    const seen = await tracing.inSpan('evaluation.process', { kind: 'consumer', parent }, async () => {
      const child = tracing.startSpan('sandbox.run');
      child.end();
      return { traceId: tracing.traceId(), carrier: tracing.carrier() };
    });
    // Read before shutdown: shutting the in-memory exporter down empties it.
    const names = exporter.getFinishedSpans().map((s) => s.name);
    await tracing.shutdown();
    return { names, ...seen };
  }

  it('records every new trace by default, and follows the caller’s decision', async () => {
    expect((await trace({})).names).toEqual(['sandbox.run', 'evaluation.process']);
    expect((await trace({}, SAMPLED_PARENT)).names).toHaveLength(2);
    const dropped = await trace({}, UNSAMPLED_PARENT);
    expect(dropped.names).toEqual([]);
    // Not recorded: no trace id in the log lines, but the decision still travels on in the job.
    expect(dropped.traceId).toBeNull();
    expect(dropped.carrier?.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
  });

  it('always_off records nothing, always_on records even what the caller dropped', async () => {
    expect((await trace({ OTEL_TRACES_SAMPLER: 'always_off' })).names).toEqual([]);
    expect((await trace({ OTEL_TRACES_SAMPLER: 'always_off' }, SAMPLED_PARENT)).names).toEqual([]);
    expect((await trace({ OTEL_TRACES_SAMPLER: 'always_on' }, UNSAMPLED_PARENT)).names).toHaveLength(2);
  });

  it('traceidratio keeps the share of traces its argument says (1 when unset)', async () => {
    expect((await trace({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' })).names).toEqual([]);
    expect((await trace({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' })).names).toHaveLength(2);
    expect((await trace({ OTEL_TRACES_SAMPLER: 'traceidratio' })).names).toHaveLength(2);
    // The decision is the trace id's: 0.5 keeps about half of 400 new traces, and a whole trace or none of it.
    const exporter = new InMemorySpanExporter();
    const tracing = openTelemetryTracing({
      role: 'serve',
      version: 'test',
      exporters: exporter,
      env: { OTEL_TRACES_SAMPLER: 'TraceIdRatio', OTEL_TRACES_SAMPLER_ARG: ' 0.5 ' },
    });
    for (let i = 0; i < 400; i++) await tracing.inSpan('evaluation.submit', {}, async () => tracing.startSpan('queue.enqueue').end());
    const spans = exporter.getFinishedSpans();
    await tracing.shutdown();
    const traces = new Map<string, string[]>();
    for (const s of spans) traces.set(s.spanContext().traceId, [...(traces.get(s.spanContext().traceId) ?? []), s.name]);
    expect(traces.size).toBeGreaterThan(120);
    expect(traces.size).toBeLessThan(280);
    for (const names of traces.values()) expect(names.sort()).toEqual(['evaluation.submit', 'queue.enqueue']);
  });

  it('parentbased_* samplers apply their root rule to new traces only', async () => {
    expect((await trace({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' })).names).toEqual([]);
    expect((await trace({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, SAMPLED_PARENT)).names).toHaveLength(2);
    expect((await trace({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' })).names).toEqual([]);
    expect((await trace({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, SAMPLED_PARENT)).names).toHaveLength(2);
    expect((await trace({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' }, UNSAMPLED_PARENT)).names).toEqual([]);
  });
});

describe('OTLP/HTTP export encodings (OTEL_EXPORTER_OTLP_PROTOCOL)', () => {
  let receiver: OtlpReceiver | null = null;
  afterEach(async () => {
    vi.unstubAllEnvs();
    await receiver?.close();
    receiver = null;
  });

  // The exporters (and the resource) read the endpoint and service name from the process's environment themselves, as in production.
  async function exportWith(protocol: string | undefined) {
    receiver = await OtlpReceiver.start();
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.endpoint);
    vi.stubEnv('OTEL_SERVICE_NAME', 'crucible-proto');
    const env = { OTEL_TRACES_EXPORTER: 'otlp', ...(protocol ? { OTEL_EXPORTER_OTLP_PROTOCOL: protocol } : {}) };
    const tracing = await tracingFromEnvironment('serve', env);
    await tracing.inSpan(
      'evaluation.submit',
      { kind: 'server', attributes: { 'crucible.evaluation.id': 'ev_proto', 'crucible.evaluation.count': 1 } },
      async () => {
        tracing.startSpan('queue.enqueue', { kind: 'producer' }).end();
      },
    );
    await tracing.shutdown(); // sends what is buffered
    return receiver;
  }

  it('http/protobuf sends protobuf that a receiver decodes into the same spans, links and attributes', async () => {
    const got = await exportWith('http/protobuf');
    expect(got.rejected).toEqual([]);
    expect(got.contentTypes).toEqual(['application/x-protobuf']);
    const submit = got.spans.find((s) => s.name === 'evaluation.submit')!;
    const enqueue = got.spans.find((s) => s.name === 'queue.enqueue')!;
    expect(submit).toMatchObject({ kind: 2, parentSpanId: '', attributes: { 'crucible.evaluation.id': 'ev_proto', 'crucible.evaluation.count': 1 } });
    expect(submit.resource).toMatchObject({ 'service.name': 'crucible-proto', 'crucible.role': 'serve' });
    expect(enqueue).toMatchObject({ kind: 4, traceId: submit.traceId, parentSpanId: submit.spanId });
    expect(submit.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('http/json stays the default', async () => {
    const got = await exportWith(undefined);
    expect(got.contentTypes).toEqual(['application/json']);
    expect(got.spans.map((s) => s.name).sort()).toEqual(['evaluation.submit', 'queue.enqueue']);
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
