/**
 * A worker's own start and stop. A host where no sandbox can run must not join: it would take
 * every job and fail it as a platform error, draining the queue meant for healthy hosts (simulated
 * by hiding the cgroup hierarchy in a private mount namespace). A worker stopped with SIGTERM
 * hands back what it could not finish in its grace period: re-run elsewhere, not "cancelled".
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { processesWithMarker } from '../helpers/processes.js';
import { getEvaluation, listWorkers, ScaleOutDeployment, submit, tickingProgram, waitAllTerminal } from '../helpers/scale-out.js';
import { api, waitFor } from '../helpers/server.js';

describe('worker lifecycle', () => {
  let deployment = new ScaleOutDeployment();
  afterEach(async () => {
    await deployment.cleanup();
    deployment = new ScaleOutDeployment();
  });

  // Hiding /sys/fs/cgroup takes a mount namespace of our own, so root.
  it.skipIf(process.getuid?.() !== 0)(
    'refuses to start where no sandbox backend works, and takes no job',
    async () => {
      const { url } = await deployment.startApi();
      const waiting = await submit(url, { code: 'print("kept for a healthy worker")' });
      const hideCgroups = (argv: string[]) => ['unshare', '--mount', 'sh', '-c', 'mount -t tmpfs none /sys/fs/cgroup && exec "$@"', 'sh', ...argv];
      const broken = await deployment.startWorker({ wrap: hideCgroups }).then(
        () => null,
        (err: Error) => err.message,
      );
      expect(broken).toMatch(/exited early \(1\)/);
      expect(broken).toMatch(/no sandbox backend works on this host/);
      expect(await listWorkers(url)).toEqual([]);

      const healthy = await deployment.startWorker();
      // It lists the sandboxes that work on its host, as the API on the same machine sees them.
      const config = await api<{ sandboxes: Array<{ name: string; available: boolean }> }>(url, 'GET', '/api/config');
      const working = config.body.sandboxes.filter((s) => s.available).map((s) => s.name);
      expect((await listWorkers(url)).map((w) => w.sandboxes)).toEqual([working]);
      const [done] = await waitAllTerminal(url, [waiting.id], 20_000);
      expect(done).toMatchObject({ status: 'completed', worker: healthy.id, attempts: 1 });
    },
    60_000,
  );

  it('SIGTERM: finishes what ends within the grace period, hands the rest back to the queue (re-run elsewhere, not cancelled)', async () => {
    // A liveness window longer than the 10 s grace period (as with the defaults, 10 s vs 10 s):
    // the reaper must not be what saves the evaluation.
    deployment = new ScaleOutDeployment(undefined, undefined, { CRUCIBLE_LIVENESS_WINDOW_MS: '30000' });
    const { url } = await deployment.startApi();
    const leaving = await deployment.startWorker({ concurrency: 2 });
    const marker = `crucible-term-${randomBytes(4).toString('hex')}`;
    const short = await submit(url, { code: tickingProgram(`${marker}-short`, 4, 0.5) });
    const long = await submit(url, { code: tickingProgram(`${marker}-long`, 30, 0.5) });
    await waitFor(
      'both running',
      async () => processesWithMarker(`${marker}-short`).length > 0 && processesWithMarker(`${marker}-long`).length > 0,
      15_000,
      50,
    );

    await leaving.kill('SIGTERM'); // waits for the exit: about the 10 s grace period
    expect(leaving.child.exitCode).toBe(0);
    expect(processesWithMarker(marker)).toEqual([]);
    expect(await getEvaluation(url, short.id)).toMatchObject({ status: 'completed', worker: leaving.id });
    const handedBack = await getEvaluation(url, long.id);
    expect(handedBack.status).toBe('queued');
    expect(handedBack.worker).toBeNull();

    const staying = await deployment.startWorker({ concurrency: 1 });
    const [final] = await waitAllTerminal(url, [long.id], 40_000);
    expect(final).toMatchObject({ status: 'completed', worker: staying.id, attempts: 2 });
    expect(final!.stdout).toContain('done');
  }, 60_000);
});
