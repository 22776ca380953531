/**
 * The Redis connections each kind of process holds, read from Redis's own CLIENT LIST (every
 * connection is named after its role and the deployment's namespace): an API process enqueues for
 * every environment through one producer connection and opens the rate limiter's when it admits
 * its first request; a `crucible worker` admits no requests and never opens a rate limiter's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionNames } from '../queue/redis-helpers.js';
import { ScaleOutDeployment, submit, type WorkerProcess } from '../helpers/scale-out.js';
import { api, waitFor, type ServerProcess } from '../helpers/server.js';

describe('Redis connections of API and worker processes (scale-out)', () => {
  const deployment = new ScaleOutDeployment();
  const ns = deployment.namespace;
  let server: ServerProcess;
  let worker: WorkerProcess;

  beforeAll(async () => {
    server = await deployment.startApi();
    worker = await deployment.startWorker({ concurrency: 1, environments: 'python' });
  }, 60_000);
  afterAll(() => deployment.cleanup());

  it('a worker opens no rate-limiter connection; the API opens one for its requests and one producer connection for every environment', async () => {
    // Both processes are up (the worker has registered and fetches jobs), and no /api request has come in yet.
    const atStart = await connectionNames(ns);
    expect(atStart.filter((n) => n.startsWith(`crucible-worker-${ns}-${worker.id}`)).length).toBeGreaterThan(0);
    expect(atStart.filter((n) => n.startsWith('crucible-rate-limiter-'))).toEqual([]);

    const evaluation = await submit(server.url, { code: 'print("connections")' });
    await waitFor(
      'the evaluation to finish',
      async () => (await api<{ status: string }>(server.url, 'GET', `/api/evaluations/${evaluation.id}`)).body.status === 'completed',
      60_000,
    );
    const names = await connectionNames(ns);
    // Only the API process admits requests, so the only rate limiter is its own.
    expect(names.filter((n) => n === `crucible-rate-limiter-${ns}`)).toHaveLength(1);
    // API and worker each hold one producer connection for all four environments (the worker re-queues through it).
    expect(names.filter((n) => n === `crucible-producer-${ns}`)).toHaveLength(2);
  }, 90_000);
});
