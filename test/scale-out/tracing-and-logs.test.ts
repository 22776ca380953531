/**
 * One evaluation is one trace across processes, and every log line about an evaluation says which
 * (and in which trace). A scale-out deployment (API process + worker process, PostgreSQL + Redis)
 * exports with the standard OTEL_* variables to a real OTLP/HTTP receiver on 127.0.0.1; the test
 * reads the spans back and follows the parent links from the HTTP request in the API process,
 * through the BullMQ job, to the worker's claim, sandbox start, run and store. The same run's log
 * output (debug level) of both processes is checked line by line.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { ScaleOutDeployment, submit, waitAllTerminal, type WorkerProcess } from '../helpers/scale-out.js';
import { api, waitFor, type ServerProcess } from '../helpers/server.js';

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;
const WORKER_SPANS = ['evaluation.claim', 'sandbox.start', 'sandbox.run', 'evaluation.store'];

describe('tracing and evaluation logs across API and worker processes', () => {
  let receiver: OtlpReceiver;
  let deployment: ScaleOutDeployment;
  let server: ServerProcess;
  let worker: WorkerProcess;
  const clientTraceId = randomBytes(16).toString('hex');
  const clientSpanId = randomBytes(8).toString('hex');
  let withHeader: Evaluation;
  let withoutHeader: Evaluation;
  let batchIds: string[];
  let failing: Evaluation;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    deployment = new ScaleOutDeployment(undefined, undefined, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_SERVICE_NAME: 'crucible-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      CRUCIBLE_LOG_LEVEL: 'debug',
    });
    server = await deployment.startApi();
    worker = await deployment.startWorker({ concurrency: 2 });

    const headers = { traceparent: `00-${clientTraceId}-${clientSpanId}-01` };
    const res = await api<Evaluation>(server.url, 'POST', '/api/evaluations', { code: 'print("traced")' }, headers);
    expect(res.status).toBe(202);
    withHeader = res.body;
    withoutHeader = await submit(server.url, { code: 'print("no header")' });
    failing = await submit(server.url, { code: 'import sys\nsys.exit(3)' });
    const batch = await api<{ ids: string[] }>(server.url, 'POST', '/api/evaluations/batch', { evaluations: [{ code: 'print(1)' }, { code: 'print(2)' }] });
    expect(batch.status).toBe(202);
    batchIds = batch.body.ids;
    const ended = await waitAllTerminal(server.url, [withHeader.id, withoutHeader.id, failing.id, ...batchIds], 60_000);
    expect(ended.map((e) => e.status)).toEqual(['completed', 'completed', 'failed', 'completed', 'completed']);
    // Every evaluation's last worker span has reached the receiver.
    await waitFor(
      'every evaluation stored in a span',
      async () =>
        [withHeader.id, withoutHeader.id, failing.id, ...batchIds].every((id) =>
          receiver.spans.some((s) => s.name === 'evaluation.store' && traceOf(id)?.traceId === s.traceId),
        ),
      20_000,
      100,
    );
  }, 120_000);

  afterAll(async () => {
    await deployment?.cleanup();
    await receiver?.close();
  });

  /** The worker's consumer span of an evaluation (it names the evaluation). */
  function traceOf(id: string): ReceivedSpan | undefined {
    return receiver.spans.find((s) => s.name === 'evaluation.process' && s.attributes['crucible.evaluation.id'] === id);
  }

  function only(spans: ReceivedSpan[], name: string): ReceivedSpan {
    const found = spans.filter((s) => s.name === name);
    expect(found, `one ${name} span in ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
    return found[0]!;
  }

  it('continues the caller’s trace from the HTTP request through the job to the worker’s run', () => {
    expect(receiver.rejected).toEqual([]);
    const spans = receiver.trace(clientTraceId);
    const request = only(spans, 'POST /api/evaluations');
    expect(request.parentSpanId).toBe(clientSpanId);
    expect(request.kind).toBe(SERVER);
    expect(request.attributes['http.response.status_code']).toBe(202);
    const submitted = only(spans, 'evaluation.submit');
    expect(submitted.parentSpanId).toBe(request.spanId);
    expect(submitted.attributes['crucible.evaluation.id']).toBe(withHeader.id);
    const enqueue = only(spans, 'queue.enqueue');
    expect(enqueue.kind).toBe(PRODUCER);
    expect(enqueue.parentSpanId).toBe(submitted.spanId);
    for (const s of [request, submitted, enqueue]) expect(s.resource).toMatchObject({ 'service.name': 'crucible-test', 'crucible.role': 'serve' });

    // Across the queue: the worker process's consumer span is the enqueue span's child.
    const processed = only(spans, 'evaluation.process');
    expect(processed.kind).toBe(CONSUMER);
    expect(processed.parentSpanId).toBe(enqueue.spanId);
    expect(processed.attributes).toMatchObject({ 'crucible.evaluation.id': withHeader.id, 'crucible.worker.id': worker.id, 'crucible.sandbox': 'bubblewrap' });
    for (const name of WORKER_SPANS) {
      const span = only(spans, name);
      expect(span.parentSpanId, name).toBe(processed.spanId);
      expect(span.resource['crucible.role'], name).toBe('worker');
    }
    expect(only(spans, 'evaluation.store').attributes).toMatchObject({ 'crucible.status': 'completed' });
    expect(processed.resource['crucible.role']).toBe('worker');
  });

  it('starts a trace of its own for a request without trace context, one per evaluation', () => {
    const processed = traceOf(withoutHeader.id)!;
    const spans = receiver.trace(processed.traceId);
    const request = only(spans, 'POST /api/evaluations');
    expect(request.parentSpanId).toBe('');
    expect(spans.map((s) => s.name).sort()).toEqual(
      ['POST /api/evaluations', 'evaluation.submit', 'queue.enqueue', 'evaluation.process', ...WORKER_SPANS].sort(),
    );
    expect(only(receiver.trace(traceOf(failing.id)!.traceId), 'sandbox.run').attributes).toMatchObject({ 'crucible.status': 'failed', 'process.exit.code': 3 });
    // A batch is one request: its evaluations share its trace, each under its own consumer span.
    const [a, b] = batchIds.map((id) => traceOf(id)!);
    expect(a!.traceId).toBe(b!.traceId);
    expect(a!.spanId).not.toBe(b!.spanId);
    expect(only(receiver.trace(a!.traceId), 'POST /api/evaluations/batch').kind).toBe(SERVER);
  });

  it('gives every log line about an evaluation its evaluation_id and trace_id, in both processes', () => {
    const ids = [withHeader.id, withoutHeader.id, failing.id, ...batchIds];
    const lines = [...server.output().split('\n'), ...worker.output().split('\n')]
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const about = (id: string) => lines.filter((l) => JSON.stringify(l).includes(id));
    for (const id of ids) {
      const traceId = traceOf(id)!.traceId;
      const mine = about(id);
      // The lifecycle is in the logs: queued by the API, claimed and finished by the worker.
      expect(mine.map((l) => `${String(l.role)}: ${String(l.msg)}`)).toEqual(
        expect.arrayContaining(['serve: evaluation queued', 'worker: evaluation claimed', 'worker: evaluation finished']),
      );
      for (const line of mine) {
        expect(line.evaluation_id, JSON.stringify(line)).toBe(id);
        expect(line.trace_id, JSON.stringify(line)).toBe(traceId);
      }
    }
    expect(about(withHeader.id).every((l) => l.trace_id === clientTraceId)).toBe(true);
  });
});
