/**
 * Routing by environment in the embedded mode: `crucible serve --environments` limits what its
 * worker takes from the SQLite queue (real sandboxes; the worker serves only `python`, the
 * environment every host has). Two workers serving different environments on this engine are in
 * test/app/environment-routing.test.ts.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import type { QueueStats, WorkerList } from '../../src/domain/system-views.js';
import { find, scrape } from '../helpers/prometheus-text.js';
import { api, cliPath, startTestServer, tempDir, waitFor } from '../helpers/server.js';

describe('routing by environment (embedded server)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer({ workers: 1, environments: ['python'] });
  });
  afterAll(() => server?.stop());

  it('runs python, keeps python-data queued with the reason, and shows both in /api/queue, /api/workers and the metrics', async () => {
    const python = await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', { code: 'print("ran")' });
    expect(python.body).toMatchObject({ status: 'completed', stdout: 'ran\n', worker: server.worker!.id, waiting_reason: null });

    const data = await api<Evaluation>(server.url, 'POST', '/api/evaluations', { code: 'print("waits")', environment: 'python-data' });
    expect(data.status).toBe(202);
    const seen = await api<Evaluation>(server.url, 'GET', `/api/evaluations/${data.body.id}`);
    expect(seen.body).toMatchObject({ status: 'queued', worker: null });
    expect(seen.body.waiting_reason).toMatch(/^No live worker serves environment "python-data" \(live workers serve: python\)/);

    const queue = (await api<QueueStats>(server.url, 'GET', '/api/queue')).body;
    expect(queue.unserved_environments).toEqual(['python-data', 'python-ml', 'python-3.13']);
    expect(queue.by_environment.find((q) => q.environment === 'python-data')).toMatchObject({
      depth: 1,
      live_workers: 0,
      oldest_queued_at: data.body.created_at,
    });
    const workers = (await api<WorkerList>(server.url, 'GET', '/api/workers')).body.workers;
    expect(workers.map((w) => w.environments)).toEqual([['python']]);
    // The per-environment gauges say the same.
    const { samples } = await scrape(`${server.url}/metrics`);
    const value = (name: string, labels: Record<string, string>) => find(samples, name, labels)[0]?.value;
    expect(value('crucible_queue_waiting', { environment: 'python-data' })).toBe(1);
    expect(value('crucible_queue_waiting', { environment: 'python' })).toBe(0);
    expect(value('crucible_workers', { environment: 'python', alive: 'true' })).toBe(1);
    expect(value('crucible_workers', { environment: 'python-data', alive: 'true' })).toBe(0);

    // Still waiting a moment later: nobody took it.
    await new Promise((r) => setTimeout(r, 300));
    expect((await api<Evaluation>(server.url, 'GET', `/api/evaluations/${data.body.id}`)).body.status).toBe('queued');
    // `crucible status` says why it waits.
    // (Not spawnSync: the server runs in this process and must keep answering.)
    const status = await promisify(execFile)(process.execPath, [cliPath, '--server', server.url, 'status', data.body.id], { timeout: 15_000 });
    expect(status.stdout).toContain('waiting: No live worker serves environment "python-data" (live workers serve: python)');
    await api(server.url, 'POST', `/api/evaluations/${data.body.id}/cancel`);
    await waitFor('cancelled', async () => (await api<Evaluation>(server.url, 'GET', `/api/evaluations/${data.body.id}`)).body.status === 'cancelled', 5_000);
  });

  it('`crucible serve --environments` refuses an unknown name before starting', () => {
    const dataDir = tempDir();
    const run = spawnSync(process.execPath, [cliPath, 'serve', '--port', '0', '--data-dir', dataDir, '--environments', 'python,python-2.7'], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    fs.rmSync(dataDir, { recursive: true, force: true });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('unknown environment "python-2.7"; known: python, python-data, python-ml, python-3.13');
  });
});
