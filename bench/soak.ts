/**
 * Soak: a scale-out deployment (API process, worker process, PostgreSQL, Redis) under steady,
 * mixed use for a bounded time: submissions with output, event streams opened and abandoned
 * mid-way, cancels, one API restart and one worker SIGKILL (replaced at once). Resource figures of
 * the processes and the database are taken at the start and at the end, side by side; at the end
 * every submission must be terminal (nothing lost, nothing stuck).
 *
 *   npx tsx bench/soak.ts [--minutes N]      # prints the section as JSON
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Evaluation } from '../src/domain/evaluation.js';
import { getEvaluation, PG_URL, REDIS_URL, ScaleOutDeployment, submit, waitAllTerminal, type WorkerProcess } from '../test/helpers/scale-out.js';
import { api, type ServerProcess } from '../test/helpers/server.js';
import type { Row, Section } from './lib/section.js';
import { rssKb } from './lib/server.js';
import { pool, sleep } from './lib/stats.js';

export interface SoakOptions {
  minutes: number;
}

/** The processes' own defaults, not the tests' fast heartbeats. */
const DEFAULT_TIMING = { CRUCIBLE_HEARTBEAT_MS: '', CRUCIBLE_LIVENESS_WINDOW_MS: '', CRUCIBLE_REAPER_INTERVAL_MS: '' };
const CHATTY = 'import time\nfor i in range(20):\n    print("line", i, "x" * 200, flush=True)\n    time.sleep(0.01)\n';
const SLEEPER = 'import time\nprint("waiting", flush=True)\ntime.sleep(30)\n';

interface Snapshot {
  api_rss_mib: number;
  api_fds: number;
  worker_rss_mib: number;
  worker_fds: number;
  database_mib: number;
  warm_sandboxes: number;
}

function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Descendants of `pid` (the worker's sandboxes and helpers). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/** Idle sandboxes waiting for a program: bubblewrap processes under the worker while nothing runs. */
function warmSandboxes(workerPid: number): number {
  return descendants(workerPid).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'bwrap';
    } catch {
      return false;
    }
  }).length;
}

async function databaseMib(namespace: string): Promise<number> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const r = await client.query<{ bytes: string }>(
      `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'r'`,
      [namespace],
    );
    return Math.round((Number(r.rows[0]!.bytes) / 2 ** 20) * 10) / 10;
  } finally {
    await client.end();
  }
}

async function snapshot(apiPid: number, worker: WorkerProcess, namespace: string): Promise<Snapshot> {
  return {
    api_rss_mib: Math.round(rssKb(apiPid) / 102.4) / 10,
    api_fds: fdCount(apiPid),
    worker_rss_mib: Math.round(rssKb(worker.pid) / 102.4) / 10,
    worker_fds: fdCount(worker.pid),
    database_mib: await databaseMib(namespace),
    warm_sandboxes: warmSandboxes(worker.pid),
  };
}

/** Opens an evaluation's event stream, reads a little, and walks away without closing politely. */
async function abandonStream(url: string, id: string): Promise<void> {
  const abort = new AbortController();
  try {
    const res = await fetch(`${url}/api/evaluations/${id}/events`, { signal: abort.signal });
    const reader = res.body?.getReader();
    await reader?.read();
  } catch {
    /* the server may be restarting */
  } finally {
    abort.abort();
  }
}

/**
 * Every evaluation's final state, read a few at a time: a burst of hundreds of parallel requests
 * would leave as many keep-alive sockets open on the server for its keep-alive timeout, which the
 * end figures would then count as if they leaked.
 */
async function settled(url: string, ids: string[], timeoutMs: number): Promise<Evaluation[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await pool(ids, 4, (id) => getEvaluation(url, id));
    if (all.every((e) => ['completed', 'failed', 'timeout', 'cancelled'].includes(e.status)) || Date.now() > deadline) return all;
    await sleep(1000);
  }
}

export async function soakBench(options: SoakOptions): Promise<Section> {
  const deployment = new ScaleOutDeployment(PG_URL, REDIS_URL, DEFAULT_TIMING);
  try {
    let apiServer: ServerProcess = await deployment.startApi();
    let worker = await deployment.startWorker({ concurrency: 2 });
    // Warm up, then take the starting figures with nothing running.
    await waitAllTerminal(apiServer.url, await Promise.all(Array.from({ length: 6 }, () => submit(apiServer.url, { code: CHATTY }).then((e) => e.id))), 60_000);
    await sleep(6000);
    const start = await snapshot(apiServer.child.pid!, worker, deployment.namespace);

    const ids: string[] = [];
    const cancelled: string[] = [];
    const counts = { submitted: 0, streams_abandoned: 0, cancels: 0, refused: 0 };
    const durationMs = options.minutes * 60_000;
    const t0 = Date.now();
    let restarted = false;
    let killed = false;
    while (Date.now() - t0 < durationMs) {
      const elapsed = (Date.now() - t0) / durationMs;
      if (!restarted && elapsed > 0.33) {
        restarted = true;
        await apiServer.kill('SIGTERM');
        apiServer = await deployment.startApi();
      }
      if (!killed && elapsed > 0.66) {
        killed = true;
        await worker.kill('SIGKILL');
        worker = await deployment.startWorker({ concurrency: 2 });
      }
      const url = apiServer.url;
      try {
        const e = await submit(url, { code: CHATTY, tags: ['soak'] });
        ids.push(e.id);
        counts.submitted++;
        if (counts.submitted % 5 === 0) {
          void abandonStream(url, e.id);
          counts.streams_abandoned++;
        }
        if (counts.submitted % 10 === 0) {
          const s = await submit(url, { code: SLEEPER, tags: ['soak'] });
          ids.push(s.id);
          await sleep(200);
          const c = await api<Evaluation>(url, 'POST', `/api/evaluations/${s.id}/cancel`, {});
          if (c.status === 200) cancelled.push(s.id);
          counts.cancels++;
        }
      } catch {
        counts.refused++; // e.g. during the restart: a refusal is a clear error, never a loss
      }
      await sleep(150);
    }

    const finals = await settled(apiServer.url, ids, 120_000);
    const stuck = finals.filter((e) => !['completed', 'cancelled'].includes(e.status));
    // Past the HTTP client's keep-alive (4 s): sockets of the last polling burst are idle-closed, not leaked.
    await sleep(6000);
    const end = await snapshot(apiServer.child.pid!, worker, deployment.namespace);
    const rows: Row[] = (Object.keys(start) as (keyof Snapshot)[]).map((key) => ({
      metric: `soak: ${key.replace(/_/g, ' ')} (end vs start)`,
      crucible: end[key],
      baseline: start[key],
      note: key.startsWith('api')
        ? 'the API was restarted once, at a third of the run'
        : key.startsWith('worker') || key === 'warm_sandboxes'
          ? 'the worker was SIGKILLed and replaced at two thirds of the run'
          : undefined,
    }));
    rows.push({
      metric: `soak: evaluations lost or stuck (of ${ids.length}, ${options.minutes} min)`,
      crucible: stuck.length,
      target: '0',
      met: stuck.length === 0,
      note: `${counts.submitted} submissions, ${counts.streams_abandoned} streams abandoned, ${counts.cancels} cancels (${cancelled.length} answered 200), ${counts.refused} refused during the restart`,
    });
    return {
      name: 'soak',
      title: `Soak: ${options.minutes} min of steady mixed use on PostgreSQL + Redis, one API restart and one worker SIGKILL`,
      rows,
      notes: [
        'Start figures are taken after a warm-up with nothing running; end figures after every evaluation ended. Nothing should grow without bound between them.',
      ],
      data: { start, end, counts, stuck: stuck.map((e) => ({ id: e.id, status: e.status, message: e.message })) },
    };
  } finally {
    await deployment.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '2' } } });
  console.log(JSON.stringify(await soakBench({ minutes: Number(values.minutes) }), null, 2));
  process.exit(0);
}
