/**
 * Routing by environment across processes (PostgreSQL + BullMQ): `crucible worker --environments`
 * as an operator starts it, an API-only `crucible serve`, real sandboxes. The workers here serve
 * only `python` (the environment every host has); routing between two workers serving different
 * environments is covered on the same engines in test/app/environment-routing.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { QueueStats } from '../../src/domain/system-views.js';
import { startProcess } from '../helpers/processes.js';
import { getEvaluation, listWorkers, ScaleOutDeployment, submit, waitAllTerminal } from '../helpers/scale-out.js';
import { api, cliPath, waitFor } from '../helpers/server.js';

describe('routing by environment (scale-out processes)', () => {
  let deployment = new ScaleOutDeployment();
  afterEach(async () => {
    await deployment.cleanup();
    deployment = new ScaleOutDeployment();
  });

  it('an unknown name in --environments stops the worker at start-up, naming the known ones', async () => {
    const argv = [
      process.execPath,
      cliPath,
      'worker',
      '--environments',
      'python,pyhton-data',
      '--database-url',
      deployment.databaseUrl,
      '--redis-url',
      deployment.redisUrl,
    ];
    const failed = await startProcess(argv, { ready: /never printed/, timeoutMs: 15_000 }).then(
      () => null,
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/exited early \(1\)/);
    expect(failed).toContain('unknown environment "pyhton-data"; known: python, python-data, python-ml, python-3.13');
  });

  it('an evaluation waits, saying why, while no worker serves its environment, and runs on the worker that serves it once it starts', async () => {
    const { url } = await deployment.startApi();
    const early = await submit(url, { code: 'print("waited")' });
    expect(early.waiting_reason).toMatch(/^No live worker is running, so nothing serves environment "python"/);
    const before = (await api<QueueStats>(url, 'GET', '/api/queue')).body;
    expect(before.unserved_environments).toEqual(['python', 'python-data', 'python-ml', 'python-3.13']);
    expect(before.by_environment.find((q) => q.environment === 'python')).toMatchObject({ depth: 1, live_workers: 0, oldest_queued_at: early.created_at });

    const worker = await deployment.startWorker({ environments: 'python', concurrency: 1 });
    expect(worker.output()).toContain('(environments: python)');
    const [ran] = await waitAllTerminal(url, [early.id], 20_000);
    expect(ran).toMatchObject({ status: 'completed', worker: worker.id, stdout: 'waited\n', waiting_reason: null });
    expect((await listWorkers(url)).map((w) => [w.id, w.environments])).toEqual([[worker.id, ['python']]]);

    const data = await submit(url, { code: 'print(1)', environment: 'python-data' });
    const seen = await getEvaluation(url, data.id);
    expect(seen).toMatchObject({ status: 'queued', worker: null });
    expect(seen.waiting_reason).toMatch(/^No live worker serves environment "python-data" \(live workers serve: python\)/);
    const after = await waitFor(
      'the python queue drained',
      async () => {
        const view = (await api<QueueStats>(url, 'GET', '/api/queue')).body;
        return view.by_environment.find((q) => q.environment === 'python')!.depth === 0 && view;
      },
      10_000,
    );
    expect(after.unserved_environments).toEqual(['python-data', 'python-ml', 'python-3.13']);
    expect(after.by_environment.map((q) => [q.environment, q.depth, q.live_workers])).toEqual([
      ['python', 0, 1],
      ['python-data', 1, 0],
      ['python-ml', 0, 0],
      ['python-3.13', 0, 0],
    ]);
  }, 60_000);
});
