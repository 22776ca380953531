/** EvaluationRunner (src/worker/evaluation-runner.ts) with a scripted sandbox backend. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EvaluationLifecycle } from '../../src/app/evaluation-lifecycle.js';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { channels } from '../../src/ports/bus.js';
import type { QueueJob } from '../../src/ports/queue.js';
import type { EvaluationRepository } from '../../src/ports/storage.js';
import { EvaluationRunner, InfrastructureError, WorkerShutdown } from '../../src/worker/evaluation-runner.js';
import {
  asEvents,
  expectGapFree,
  openInMemoryPlatform,
  recordChannel,
  storedEvents,
  submitOne,
  waitFor,
  type InMemoryPlatform,
} from '../helpers/in-memory-platform.js';
import { scriptedSandbox, type Script, type ScriptedSandbox } from '../helpers/scripted-sandbox.js';

const WORKER = 'worker-1';

let p: InMemoryPlatform;
beforeEach(async () => {
  p = await openInMemoryPlatform();
});
afterEach(() => p.close());

function runner(sandbox: ScriptedSandbox, lifecycle: EvaluationLifecycle = p.lifecycle): EvaluationRunner {
  return new EvaluationRunner({
    evaluations: p.storage.evaluations,
    lifecycle,
    sandboxes: { bubblewrap: sandbox },
    log: p.log,
    workerId: WORKER,
    flushIntervalMs: 5,
  });
}

const jobOf = (e: Evaluation): QueueJob => ({ evaluationId: e.id, environment: e.environment, sandbox: e.sandbox });

/** Submits an evaluation and runs it with `script`; returns the evaluation as stored afterwards. */
async function runScript(script: Script, abort = new AbortController()) {
  const submitted = await submitOne(p);
  const sandbox = scriptedSandbox(script);
  const outcome = await runner(sandbox)
    .run(jobOf(submitted), abort)
    .then(
      () => null,
      (err: unknown) => err,
    );
  return { id: submitted.id, sandbox, outcome, evaluation: (await p.storage.evaluations.get(submitted.id))! };
}

const sample = { elapsed_ms: 10, cpu_ms: 4, memory_bytes: 2048 };

describe('EvaluationRunner', () => {
  it('claims, runs and records the verdict: queued → provisioning → running → completed', async () => {
    const submitted = await submitOne(p);
    const live = await recordChannel(p.bus, channels.evaluation(submitted.id));
    const sandbox = scriptedSandbox({
      steps: [{ start: true }, { stdout: 'hello\n' }, { sample }, { pauseMs: 20 }, { stderr: 'note\n' }, { stdout: 'bye\n' }],
    });
    await runner(sandbox).run(jobOf(submitted), new AbortController());

    const evaluation = (await p.storage.evaluations.get(submitted.id))!;
    expect(evaluation).toMatchObject({
      status: 'completed',
      reason: 'exit_zero',
      exit_code: 0,
      worker: WORKER,
      attempts: 1,
      stdout: 'hello\nbye\n',
      stderr: 'note\n',
    });
    expect(evaluation.started_at).not.toBeNull();
    expect(sandbox.runs).toEqual([expect.objectContaining({ code: submitted.code, runId: submitted.id, limits: submitted.limits })]);

    const events = await storedEvents(p.storage, submitted.id);
    // The first batch is flushed live; the rest goes with the verdict, before it.
    expect(expectGapFree(events)).toEqual([
      'status:queued',
      'status:provisioning',
      'status:running',
      'stdout',
      'metrics',
      'stdout',
      'stderr',
      'status:completed',
      'done',
    ]);
    expect(events.flatMap((e) => (e.type === 'stdout' ? [e.data.text] : []))).toEqual(['hello\n', 'bye\n']);
    expect(events.at(-1)).toMatchObject({ type: 'done', data: { status: 'completed', reason: 'exit_zero', exit_code: 0 } });
    await waitFor(() => live.payloads.length === events.length - 1);
    expect(asEvents(live.payloads)).toEqual(events.slice(1));
  });

  it('records the domain verdict of a failing program with its output', async () => {
    const { evaluation } = await runScript({ steps: [{ start: true }, { stderr: 'Traceback…\n' }], ending: { exitCode: 1 } });
    expect(evaluation).toMatchObject({ status: 'failed', reason: 'exit_nonzero', exit_code: 1, stderr: 'Traceback…\n' });
    expect(evaluation.message).toContain('uncaught exception');
  });

  it('skips an evaluation that is no longer queued, without running it', async () => {
    const submitted = await submitOne(p);
    await p.service().cancel(submitted.id);
    const sandbox = scriptedSandbox({ steps: [{ start: true }] });
    await runner(sandbox).run(jobOf(submitted), new AbortController());
    expect(sandbox.runs).toEqual([]);
    expect((await p.storage.evaluations.get(submitted.id))?.status).toBe('cancelled');
  });

  it('puts it back to queued and throws InfrastructureError when the sandbox fails before the start', async () => {
    const { outcome, evaluation, id } = await runScript({ steps: [{ stdout: 'ignored' }], ending: { platformError: 'cgroup setup failed' } });
    expect(outcome).toBeInstanceOf(InfrastructureError);
    expect((outcome as Error).message).toContain('cgroup setup failed');
    expect(evaluation).toMatchObject({ status: 'queued', worker: null, attempts: 1 });
    expect(expectGapFree(await storedEvents(p.storage, id))).toEqual(['status:queued', 'status:provisioning', 'status:queued']);
  });

  it('throws InfrastructureError, leaving it queued, when its sandbox is not configured here', async () => {
    const submitted = await submitOne(p, { sandbox: 'gvisor' });
    const outcome = await runner(scriptedSandbox({ steps: [] }))
      .run(jobOf(submitted), new AbortController())
      .catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(InfrastructureError);
    expect((await p.storage.evaluations.get(submitted.id))?.status).toBe('queued');
  });

  it('hands the evaluation back to queued when the worker shuts down mid-run', async () => {
    const abort = new AbortController();
    const submitted = await submitOne(p);
    const sandbox = scriptedSandbox({ steps: [{ start: true }, { stdout: 'partial\n' }, { untilAborted: true }] });
    const running = runner(sandbox)
      .run(jobOf(submitted), abort)
      .catch((err: unknown) => err);
    await waitFor(async () => (await storedEvents(p.storage, submitted.id)).some((e) => e.type === 'stdout'));
    abort.abort(new WorkerShutdown(WORKER));

    expect(await running).toBeInstanceOf(InfrastructureError);
    const evaluation = await p.storage.evaluations.get(submitted.id);
    expect(evaluation).toMatchObject({ status: 'queued', worker: null });
    expect(evaluation!.message).toContain(`worker ${WORKER} shut down`);
  });

  it('hands it back without running it when the worker was already shutting down', async () => {
    const abort = new AbortController();
    abort.abort(new WorkerShutdown(WORKER));
    const { outcome, sandbox, evaluation } = await runScript({ steps: [{ start: true }] }, abort);
    expect(outcome).toBeInstanceOf(InfrastructureError);
    expect(sandbox.runs).toEqual([]);
    expect(evaluation.status).toBe('queued');
  });

  it('ends a user-cancelled run as cancelled, keeping the output printed before', async () => {
    const abort = new AbortController();
    const submitted = await submitOne(p);
    const sandbox = scriptedSandbox({ steps: [{ start: true }, { stdout: 'step 1\n' }, { untilAborted: true }, { stdout: 'never\n' }] });
    const running = runner(sandbox).run(jobOf(submitted), abort);
    await waitFor(async () => (await p.storage.evaluations.get(submitted.id))?.status === 'running');
    abort.abort();
    await running;

    const evaluation = await p.storage.evaluations.get(submitted.id);
    expect(evaluation).toMatchObject({ status: 'cancelled', reason: 'cancelled', stdout: 'step 1\n' });
    const events = await storedEvents(p.storage, submitted.id);
    expect(expectGapFree(events).slice(-2)).toEqual(['status:cancelled', 'done']);
    expect(events.flatMap((e) => (e.type === 'stdout' ? [e.data.text] : []))).toEqual(['step 1\n']);
  });

  it('records the start of a program that ends before the next flush together with its verdict, in the same order', async () => {
    const submitted = await submitOne(p);
    const live = await recordChannel(p.bus, channels.evaluation(submitted.id));
    const slowFlush = new EvaluationRunner({
      evaluations: p.storage.evaluations,
      lifecycle: p.lifecycle,
      sandboxes: { bubblewrap: scriptedSandbox({ steps: [{ start: true }, { stdout: 'quick\n' }] }) },
      log: p.log,
      workerId: WORKER,
      flushIntervalMs: 60_000,
    });
    await slowFlush.run(jobOf(submitted), new AbortController());

    const evaluation = (await p.storage.evaluations.get(submitted.id))!;
    expect(evaluation).toMatchObject({ status: 'completed', stdout: 'quick\n', worker: WORKER });
    expect(evaluation.started_at).not.toBeNull();
    const events = await storedEvents(p.storage, submitted.id);
    expect(expectGapFree(events)).toEqual(['status:queued', 'status:provisioning', 'status:running', 'stdout', 'status:completed', 'done']);
    expect(events.find((e) => e.type === 'status' && e.data.status === 'running')!.at).toBe(evaluation.started_at);
    // Watchers get the same events, published once stored.
    expect(asEvents(live.payloads).map((e) => e.seq)).toEqual([2, 3, 4, 5, 6]);
  });

  it('retries a verdict write that fails transiently', async () => {
    let failures = 0;
    const repo = p.storage.evaluations;
    const flaky: EvaluationRepository = new Proxy(repo, {
      get(target, prop) {
        if (prop === 'transition') {
          const transition: EvaluationRepository['transition'] = (id, to, patch, options) => {
            if (to === 'completed' && failures++ === 0) return Promise.reject(new Error('SQLITE_BUSY: database is locked'));
            return target.transition(id, to, patch, options);
          };
          return transition;
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const lifecycle = new EvaluationLifecycle({ storage: { evaluations: flaky, events: p.storage.events }, bus: p.bus, log: p.log });
    const submitted = await submitOne(p);
    await runner(scriptedSandbox({ steps: [{ start: true }, { stdout: 'out\n' }] }), lifecycle).run(jobOf(submitted), new AbortController());

    expect(failures).toBe(2);
    expect(await p.storage.evaluations.get(submitted.id)).toMatchObject({ status: 'completed', stdout: 'out\n' });
    expect(expectGapFree(await storedEvents(p.storage, submitted.id)).slice(-3)).toEqual(['stdout', 'status:completed', 'done']);
    expect(p.log.lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'could not record its completed result; retrying' }));
  });
});
