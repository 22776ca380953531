/**
 * Multi-host: two workers on two "hosts" (network namespaces with their own address and hostname)
 * reach this machine's PostgreSQL and Redis over a veth link; the API runs here with no local
 * worker. Evaluations run on both hosts; one host's worker is SIGKILLed mid-run; every evaluation
 * still ends, the dead worker's ones on the other host, and none of its sandboxes survives.
 *
 * PostgreSQL and Redis listen on 127.0.0.1 only, so the test pipes the host-side veth addresses to
 * them with a TCP forwarder in this process instead of reconfiguring the system services.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/domain/evaluation.js';
import { createNetnsLan, netnsSupport, type NetnsHost } from '../helpers/netns.js';
import { processesWithMarker } from '../helpers/processes.js';
import {
  getEvaluation,
  listWorkers,
  PG_URL,
  REDIS_URL,
  ScaleOutDeployment,
  submit,
  tickingProgram,
  waitAllTerminal,
  type WorkerProcess,
} from '../helpers/scale-out.js';
import { waitFor, type ServerProcess } from '../helpers/server.js';
import { forwardTcp } from '../helpers/tcp-forward.js';

const unsupported = netnsSupport();
if (unsupported) console.warn(`multi-host test skipped: ${unsupported}`);

/** `url` with its host and port replaced. */
function via(url: string, host: string, port: number): string {
  const u = new URL(url);
  u.hostname = host;
  u.port = String(port);
  return u.toString();
}

describe.skipIf(unsupported !== null)('scale-out across hosts (network namespaces)', () => {
  const deployment = new ScaleOutDeployment();
  let apiServer: ServerProcess;
  const workers: Array<WorkerProcess & { host: NetnsHost }> = [];

  beforeAll(async () => {
    const lan = createNetnsLan(2);
    deployment.teardown.add('network namespaces', () => lan.destroy());
    apiServer = await deployment.startApi();
    for (const host of lan.hosts) {
      const pg = new URL(PG_URL);
      const redis = new URL(REDIS_URL);
      const pgForward = await forwardTcp({ host: host.hostAddress }, { host: pg.hostname, port: Number(pg.port || 5432) });
      const redisForward = await forwardTcp({ host: host.hostAddress }, { host: redis.hostname, port: Number(redis.port || 6379) });
      deployment.teardown.add(`forwarders on ${host.hostAddress}`, () => Promise.all([pgForward.close(), redisForward.close()]));
      const worker = await deployment.startWorker({
        concurrency: 2,
        wrap: host.command,
        databaseUrl: via(PG_URL, host.hostAddress, pgForward.port),
        redisUrl: via(REDIS_URL, host.hostAddress, redisForward.port),
      });
      workers.push(Object.assign(worker, { host }));
    }
  });

  afterAll(() => deployment.cleanup());

  it("runs evaluations on both hosts and finishes a killed host's evaluations on the other", async () => {
    const { url } = apiServer;
    const [first, second] = workers as [WorkerProcess & { host: NetnsHost }, WorkerProcess & { host: NetnsHost }];

    // Both workers registered from their own host, reaching PostgreSQL only through their veth.
    const registered = await waitFor(
      'two workers listed',
      async () => {
        const list = await listWorkers(url);
        return list.length === 2 && list.every((w) => w.alive) && list;
      },
      10_000,
    );
    expect(registered.map((w) => w.host).sort()).toEqual([first.host.hostname, second.host.hostname].sort());
    expect(registered.map((w) => w.id).sort()).toEqual([first.id, second.id].sort());

    // Four 5-second programs fill both workers (2 slots each); six quick ones wait behind them.
    const marker = `crucible-mh-${randomBytes(4).toString('hex')}`;
    const slow: Evaluation[] = [];
    for (let i = 0; i < 4; i++) slow.push(await submit(url, { code: tickingProgram(`${marker}-${i}`, 10, 0.5), tags: ['multi-host'] }));
    const quick: Evaluation[] = [];
    for (let i = 0; i < 6; i++) quick.push(await submit(url, { code: `print(${i} * 7)`, tags: ['multi-host'] }));

    const running = await waitFor(
      'slow evaluations running on both hosts',
      async () => {
        const all = await Promise.all(slow.map((e) => getEvaluation(url, e.id)));
        const holders = new Set(all.filter((e) => e.status === 'running').map((e) => e.worker));
        return holders.has(first.id) && holders.has(second.id) && all;
      },
      20_000,
      100,
    );
    const victim = first;
    const victimEvaluations = running.filter((e) => e.worker === victim.id && e.status === 'running');
    const victimMarkers = victimEvaluations.map((e) => `${marker}-${slow.findIndex((s) => s.id === e.id)}`);
    // The kill lands mid-run: their programs are up (visible on this machine, which hosts both "hosts").
    await waitFor('programs of the first host running', async () => victimMarkers.every((m) => processesWithMarker(m).length > 0), 10_000, 50);

    const killedAt = Date.now();
    await victim.kill('SIGKILL');

    // Its sandboxes die with it (parent-death signal and PID namespace), on its own host too.
    await waitFor('sandboxes of the killed worker gone', async () => victimMarkers.every((m) => processesWithMarker(m).length === 0), 5_000, 50);

    // The reaper notices the missing heartbeat and re-queues; the other host runs them again.
    const timings = await Promise.all(
      victimEvaluations.map(async (e) => {
        const requeued = await waitFor(
          're-queued',
          async () => {
            const now = await getEvaluation(url, e.id);
            return now.worker !== victim.id && Date.now();
          },
          20_000,
          50,
        );
        const rerun = await waitFor(
          'running on the other host',
          async () => {
            const now = await getEvaluation(url, e.id);
            return now.worker === second.id && ['running', 'completed'].includes(now.status) && Date.now();
          },
          20_000,
          50,
        );
        return { requeuedMs: requeued - killedAt, rerunMs: rerun - killedAt };
      }),
    );
    console.info(
      `multi-host: worker SIGKILL → re-queued after ${timings.map((t) => t.requeuedMs).join('/')} ms, running again on the other host after ${timings.map((t) => t.rerunMs).join('/')} ms (liveness window 3000 ms)`,
    );
    for (const t of timings) {
      // Liveness window (3 s) + heartbeat (0.5 s) + reaper interval (0.5 s), with slack for a busy machine.
      expect(t.requeuedMs).toBeLessThan(8_000);
      // Plus the job's lock (= window) and BullMQ's stalled check (half a window).
      expect(t.rerunMs).toBeLessThan(12_000);
    }

    const finals = await waitAllTerminal(
      url,
      [...slow, ...quick].map((e) => e.id),
      30_000,
    );
    const byId = new Map(finals.map((e) => [e.id, e]));
    expect(finals.map((e) => e.status)).toEqual(Array(10).fill('completed'));
    for (const e of victimEvaluations) {
      const final = byId.get(e.id)!;
      expect(final.worker).toBe(second.id);
      expect(final.attempts).toBe(2);
      expect(final.stdout).toContain('done');
    }
    expect(finals.every((e) => e.worker === first.id || e.worker === second.id)).toBe(true);
    expect(quick.every((q) => byId.get(q.id)!.stdout.trim() === String(quick.indexOf(q) * 7))).toBe(true);

    // The dead worker is gone from the list; the survivor still runs.
    await waitFor(
      'only the survivor listed',
      async () => {
        const list = await listWorkers(url);
        return list.length === 1 && list[0]!.id === second.id;
      },
      10_000,
    );
    expect(second.alive()).toBe(true);
    await waitFor('no sandbox left', async () => slow.every((_, i) => processesWithMarker(`${marker}-${i}`).length === 0), 10_000);
  }, 90_000);
});
