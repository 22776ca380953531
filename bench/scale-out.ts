/**
 * Scale-out benchmark: the same two programs (hello world, and a 600k-iteration CPU loop) through
 * the embedded default and through PostgreSQL + Redis with 1 and then 2 `crucible worker`
 * processes, in one run so that machine noise hits every column alike. Per setup and program:
 * end-to-end latency of sequential `?wait=true` requests, and throughput of a batch submitted at
 * once (until the last one ended, seen on the /api/events feed). The embedded figures are the
 * baseline column.
 *
 *   npx tsx bench/scale-out.ts [--quick]      # prints the section as JSON
 *
 * Every setup has 2 slots per process (the default on 2 cores); on one machine the second worker
 * process shares the same cores, so "2 workers" measures the coordination cost of spreading work
 * over processes, not added capacity (that needs a second host). PostgreSQL and Redis are the
 * machine's (CRUCIBLE_TEST_DATABASE_URL / CRUCIBLE_TEST_REDIS_URL); the benchmark works in its own
 * schema and key prefix and removes them afterwards.
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { CreateEvaluationInput, Evaluation } from '../src/domain/evaluation.js';
import { ScaleOutDeployment } from '../test/helpers/scale-out.js';
import { api } from '../test/helpers/server.js';
import { feedWatcher, listByTag, submitBatch } from './lib/api.js';
import type { Row, Section } from './lib/section.js';
import { startBenchServer } from './lib/server.js';
import { distribution, round, type Distribution } from './lib/stats.js';

export interface ScaleOutBenchOptions {
  /** Sequential ?wait=true requests per setup and program (after 3 warm-up ones). */
  latencyRuns: number;
  /** Evaluations submitted at once per setup and program. */
  batch: number;
}

const PROGRAMS = {
  hello: 'print("Hello, world!")\n',
  cpu: 'total = 0\nfor i in range(600_000):\n    total += i * i\nprint(total)\n',
} as const;
type ProgramName = keyof typeof PROGRAMS;

interface Measured {
  latency_ms: Distribution;
  throughput_per_s: number;
  completed: number;
  submitted: number;
}
type SetupResult = Record<ProgramName, Measured> & { setup: string; slots: number; workers_used?: number };

/** Production timing (empty values: the processes' own defaults, not the tests' fast heartbeats). */
const DEFAULT_TIMING = { CRUCIBLE_HEARTBEAT_MS: '', CRUCIBLE_LIVENESS_WINDOW_MS: '', CRUCIBLE_REAPER_INTERVAL_MS: '' };

async function measure(url: string, program: ProgramName, options: ScaleOutBenchOptions, tag: string): Promise<Measured> {
  const code = PROGRAMS[program];
  const once = async () => {
    const t = performance.now();
    const res = await api<Evaluation>(url, 'POST', '/api/evaluations?wait=true', { code, tags: [tag] });
    if (res.status !== 200 || res.body.status !== 'completed')
      throw new Error(`${program} did not complete: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    return performance.now() - t;
  };
  for (let i = 0; i < 3; i++) await once();
  const latencies: number[] = [];
  for (let i = 0; i < options.latencyRuns; i++) latencies.push(await once());

  const watcher = await feedWatcher(url, 60_000);
  try {
    const batchTag = `${tag}:batch`;
    const started = performance.now();
    const ids = await submitBatch(
      url,
      Array.from({ length: options.batch }, (): CreateEvaluationInput => ({ code, tags: [batchTag] })),
    );
    watcher.expect(ids);
    const ended = await watcher.done;
    const stored = await listByTag(url, batchTag);
    return {
      latency_ms: distribution(latencies),
      throughput_per_s: round(options.batch / ((ended - started) / 1000), 1),
      completed: stored.filter((e) => e.status === 'completed').length,
      submitted: ids.length,
    };
  } finally {
    watcher.close();
  }
}

async function measureAll(url: string, setup: string, options: ScaleOutBenchOptions): Promise<Record<ProgramName, Measured>> {
  const tag = `bench:scale-out:${setup}`;
  return { hello: await measure(url, 'hello', options, `${tag}:hello`), cpu: await measure(url, 'cpu', options, `${tag}:cpu`) };
}

async function embedded(options: ScaleOutBenchOptions): Promise<SetupResult> {
  const server = await startBenchServer(['--workers', '2']);
  try {
    return { setup: 'embedded', slots: 2, ...(await measureAll(server.url, 'embedded', options)) };
  } finally {
    await server.stop();
  }
}

/** One deployment: measured with one worker process, then again after a second one joined. */
async function scaleOut(options: ScaleOutBenchOptions): Promise<SetupResult[]> {
  const deployment = new ScaleOutDeployment(undefined, undefined, DEFAULT_TIMING);
  try {
    const { url } = await deployment.startApi();
    await deployment.startWorker({ concurrency: 2 });
    const one = { setup: '1 worker', slots: 2, ...(await measureAll(url, 'w1', options)) };
    await deployment.startWorker({ concurrency: 2 });
    const two = { setup: '2 workers', slots: 4, ...(await measureAll(url, 'w2', options)) };
    // How many of the two processes the CPU batch was actually spread over.
    const workersUsed = new Set((await listByTag(url, 'bench:scale-out:w2:cpu:batch')).map((e) => e.worker)).size;
    return [one, { ...two, workers_used: workersUsed }];
  } finally {
    await deployment.cleanup();
  }
}

export async function scaleOutBench(options: ScaleOutBenchOptions): Promise<Section> {
  const loadBefore = os.loadavg()[0]!;
  const base = await embedded(options);
  const setups = await scaleOut(options);
  const loadAfter = os.loadavg()[0]!;
  const rows: Row[] = [];
  for (const program of ['hello', 'cpu'] as const) {
    const label = program === 'hello' ? 'hello world' : 'CPU loop (600k iterations, ~60 ms)';
    for (const s of setups) {
      rows.push(
        {
          metric: `${label}, PostgreSQL+Redis, ${s.setup}: latency p50 / p95 (ms)`,
          crucible: `${s[program].latency_ms.p50} / ${s[program].latency_ms.p95}`,
          baseline: `${base[program].latency_ms.p50} / ${base[program].latency_ms.p95}`,
          note: 'baseline: embedded (SQLite), same run',
        },
        {
          metric: `${label}, PostgreSQL+Redis, ${s.setup}: throughput (evals/s, batch of ${options.batch})`,
          crucible: s[program].throughput_per_s,
          baseline: base[program].throughput_per_s,
          ratio: round(s[program].throughput_per_s / base[program].throughput_per_s, 2),
          note: `${s[program].completed}/${s[program].submitted} completed; ${s.slots} slots${s.workers_used ? `; batch spread over ${s.workers_used} worker processes` : ''}`,
        },
      );
    }
  }
  return {
    name: 'scale-out',
    title: 'Scale-out: PostgreSQL + Redis with 1 and 2 worker processes vs the embedded default (same machine, same run)',
    rows,
    notes: [
      'Both worker processes run on this one 2-core machine, next to the API, PostgreSQL and Redis: the 2-worker figures show the cost of coordinating through PostgreSQL/Redis, not the capacity a second host adds.',
      'Latency: sequential POST ?wait=true after 3 warm-up requests. Throughput: one batch submitted at once, until the last evaluation ended (GET /api/events).',
      `1-minute load average ${round(loadBefore, 2)} before, ${round(loadAfter, 2)} after: figures from a busy machine are noisy.`,
    ],
    data: { setups: [base, ...setups], options },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const section = await scaleOutBench(values.quick ? { latencyRuns: 5, batch: 10 } : { latencyRuns: 15, batch: 40 });
  console.log(JSON.stringify(section, null, 2));
}
