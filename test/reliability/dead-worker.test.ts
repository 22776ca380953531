/**
 * With the default timing (no test overrides), a SIGKILLed worker's evaluation is re-queued within
 * 5 s; meanwhile another worker, kept busy with CPU-bound programs on this 2-core machine, is never
 * taken for dead (every evaluation it ran was picked up once).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import type { EvaluationEvent } from '../../src/domain/events.js';
import { processesWithMarker } from '../helpers/processes.js';
import { getEvaluation, PG_URL, REDIS_URL, ScaleOutDeployment, submit, tickingProgram, waitAllTerminal } from '../helpers/scale-out.js';
import { waitFor } from '../helpers/server.js';
import { readSse } from '../helpers/sse.js';

/** The process's own defaults: empty values make the deployment ignore its fast test timing. */
const DEFAULT_TIMING = { CRUCIBLE_HEARTBEAT_MS: '', CRUCIBLE_LIVENESS_WINDOW_MS: '', CRUCIBLE_REAPER_INTERVAL_MS: '' };
const BUSY = 'x = 0\nfor i in range(12_000_000):\n    x += i\nprint(x)';

describe('dead worker with the default timing', () => {
  const deployment = new ScaleOutDeployment(PG_URL, REDIS_URL, DEFAULT_TIMING);
  afterAll(() => deployment.cleanup());

  it('re-queues its evaluation within 5 s and takes no busy live worker for dead', async () => {
    const api = await deployment.startApi();
    const { url } = api;
    const marker = `crucible-dead-${randomBytes(4).toString('hex')}`;
    const doomed = await deployment.startWorker({ concurrency: 1 });
    const victim = await submit(url, { code: tickingProgram(marker, 120, 0.25), timeout_s: 120, tags: ['dead-worker'] });
    await waitFor(
      'victim running on the doomed worker',
      async () => {
        const e = await getEvaluation(url, victim.id);
        return e.status === 'running' && e.worker === doomed.id;
      },
      30_000,
      50,
    );
    // Then the load, so the other worker is saturated while the doomed one dies.
    const busy = await deployment.startWorker({ concurrency: 2 });
    const load: Evaluation[] = [];
    for (let i = 0; i < 8; i++) load.push(await submit(url, { code: BUSY, tags: ['dead-worker-load'] }));
    await waitFor(
      'the busy worker saturated',
      async () => (await Promise.all(load.map((e) => getEvaluation(url, e.id)))).filter((e) => e.worker === busy.id && e.status === 'running').length === 2,
      30_000,
      50,
    );

    // The victim must still be running when its worker dies, or this test proves nothing.
    expect((await getEvaluation(url, victim.id)).status).toBe('running');
    const killedAt = Date.now();
    await doomed.kill('SIGKILL');
    const requeued = await waitFor(
      'victim re-queued',
      async () => {
        const e = await getEvaluation(url, victim.id);
        return e.status !== 'running' && e.status !== 'provisioning' && e;
      },
      15_000,
      50,
    );
    const boundMs = Date.now() - killedAt;
    console.info(`dead worker: re-queued ${boundMs} ms after SIGKILL with the default timing, under load`);
    if (boundMs > 5_000) console.info(`API log:\n${api.output()}`);
    expect(boundMs).toBeLessThanOrEqual(5_000);
    expect(['queued', 'provisioning', 'running', 'completed']).toContain(requeued.status);
    await waitFor('sandbox of the dead worker gone', async () => processesWithMarker(marker).length === 0, 5_000);

    const [victimFinal, ...loadFinal] = await waitAllTerminal(url, [victim.id, ...load.map((e) => e.id)], 120_000);
    expect(victimFinal).toMatchObject({ status: 'completed', worker: busy.id, attempts: 2 });
    const events = await readSse(`${url}/api/evaluations/${victim.id}/events`);
    const requeue = events.find((m) => m.event === 'status' && (m.data as EvaluationEvent & { type: 'status' }).data.status === 'queued' && Number(m.id) > 1);
    expect((requeue!.data as EvaluationEvent & { type: 'status' }).data.message).toContain(`worker ${doomed.id} stopped`);
    // No false positive: the saturated worker kept its evaluations.
    for (const e of loadFinal) expect(e).toMatchObject({ status: 'completed', worker: busy.id, attempts: 1 });
  }, 180_000);
});
