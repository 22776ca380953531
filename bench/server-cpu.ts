/**
 * Server CPU per evaluation in embedded mode (SQLite + in-process queue + memory bus): a batch of
 * `print(1)` through a real server process, one status-feed watcher, 2 workers. Counts the storage
 * statements and transactions per evaluation (the server's own query counters, from /metrics) next
 * to the CPU the server process spent (user + system, all threads, from /proc). The baseline is
 * the same server left idle for as long as the batch took: what the process spends anyway
 * (heartbeats, reaper, queue poll, warm sandboxes kept ready), so neither figure hides the other.
 */
import { feedWatcher, submitBatch } from './lib/api.js';
import { queryCounts, type QueryCounts } from './lib/query-counts.js';
import type { Section } from './lib/section.js';
import { startBenchServer, type BenchServer } from './lib/server.js';
import { round, sleep } from './lib/stats.js';

const TARGET_MS = 2;

async function runBatch(server: BenchServer, n: number, tag: string): Promise<void> {
  const watcher = await feedWatcher(server.url, 600_000);
  try {
    const ids = await submitBatch(
      server.url,
      Array.from({ length: n }, () => ({ code: 'print(1)', tags: [tag] })),
    );
    watcher.expect(ids);
    await watcher.done;
  } finally {
    watcher.close();
  }
}

interface Spent {
  seconds: number;
  cpuMs: number;
  queries: QueryCounts;
}

async function spent(server: BenchServer, during: () => Promise<void>): Promise<Spent> {
  const cpu = server.cpuMs();
  const queries = await queryCounts(server.url);
  const t = performance.now();
  await during();
  const seconds = (performance.now() - t) / 1000;
  const after = await queryCounts(server.url);
  return {
    seconds,
    cpuMs: server.cpuMs() - cpu,
    queries: { statements: after.statements - queries.statements, transactions: after.transactions - queries.transactions },
  };
}

export async function serverCpuBench(opts: { evaluations: number }): Promise<Section> {
  const n = opts.evaluations;
  const server = await startBenchServer(['--workers', '2']);
  try {
    await runBatch(server, 20, 'bench:server-cpu:warm-up'); // JIT, statement cache, warm sandboxes
    const busy = await spent(server, () => runBatch(server, n, 'bench:server-cpu'));
    await sleep(2000); // the last warm sandboxes are refilled before the idle window starts
    const idle = await spent(server, () => sleep(busy.seconds * 1000));
    const perEval = busy.cpuMs / n;
    const netPerEval = (busy.cpuMs - idle.cpuMs) / n;
    return {
      name: 'server-cpu',
      title: `Server CPU per evaluation, embedded mode: a batch of ${n} print(1), 2 workers, one status-feed watcher`,
      rows: [
        {
          metric: 'server CPU per evaluation (ms)',
          crucible: round(perEval, 2),
          baseline: round(idle.cpuMs / n, 2),
          target: `≤ ${TARGET_MS} ms`,
          met: perEval <= TARGET_MS,
          note: `baseline: the idle server over the same ${round(busy.seconds)} s; net of it: ${round(netPerEval, 2)} ms`,
        },
        {
          metric: 'storage statements / transactions per evaluation',
          crucible: `${round(busy.queries.statements / n, 1)} / ${round(busy.queries.transactions / n, 1)}`,
          baseline: `${round(idle.queries.statements / n, 1)} / ${round(idle.queries.transactions / n, 1)}`,
          note: 'the whole server (submit, queue, claim, verdict, heartbeats, reaper, gauges); transactions = explicit BEGINs',
        },
        { metric: 'evaluations/s', crucible: round(n / busy.seconds) },
      ],
      notes: ['CPU is the server process (all threads: API, storage, worker, sandbox supervision); the sandboxes themselves are other processes'],
      data: { evaluations: n, busy, idle, perEvalMs: perEval, netPerEvalMs: netPerEval },
    };
  } finally {
    await server.stop();
  }
}
