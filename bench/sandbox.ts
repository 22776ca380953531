/**
 * Sandbox start-up benchmark: wall time of `print(1)` run bare (/usr/bin/python3 spawned from
 * Node) and in each available backend, interleaved in the same process so that machine noise
 * hits every column alike; then throughput with 2 runs in flight per backend; then an output
 * flood (30 000 printed lines) in each backend beside bare Python buffered and unbuffered.
 *
 *   npx tsx bench/sandbox.ts [--runs N] [--json]
 *   npx tsx bench/sandbox.ts --launch-cost [--ballast-mb 120]
 *
 * --launch-cost measures what starting one launcher costs the server itself, at a server-like
 * RSS (ballast buffers are allocated and touched first): how long the event loop is blocked by
 * the start call, and the server's CPU per launch, with a plain spawn vs through the spawner.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_LIMITS } from '../src/domain/limits.js';
import { cgroupDriver, closeSandboxBackends, createSandboxBackends, GvisorBackend } from '../src/sandbox/index.js';
import { DEFAULT_NATIVE_DIR } from '../src/sandbox/native.js';
import { spawnDirectly } from '../src/sandbox/run/direct-spawn.js';
import { Launch } from '../src/sandbox/run/launch.js';
import type { StartLauncher } from '../src/sandbox/run/launcher-process.js';
import { SPAWNER_BINARY } from '../src/sandbox/run/launcher-source.js';
import { Spawner } from '../src/sandbox/run/spawner.js';
import type { SandboxBackend, SandboxBackends } from '../src/ports/sandbox.js';

export interface LatencyStats {
  runs: number;
  median_ms: number;
  p95_ms: number;
  overhead_median_ms: number | null;
}

export interface SandboxBenchResult {
  program: string;
  latency: Record<string, LatencyStats>;
  /** Completed runs per second with 2 in flight. */
  throughput_2_parallel: Record<string, number>;
  /** Median wall ms of FLOOD_PROGRAM: bare-buffered / bare-unbuffered (-u) and each backend. */
  flood_median_ms: Record<string, number>;
  skipped: Record<string, string>;
}

const PROGRAM = 'print(1)';
export const FLOOD_LINES = 30_000;
const FLOOD_PROGRAM = `for i in range(${FLOOD_LINES}):\n    print("line", i)`;
const FLOOD_RUNS = 7;
/** The gVisor backend without warm sandboxes (each run boots its own), measured beside the default. */
export const GVISOR_COLD = 'gvisor-cold';
const PYTHON = '/usr/bin/python3';

/** Bare Python as Node spawns it; `flags` (e.g. -u) and the environment are Python's own defaults otherwise. */
function bare(program = PROGRAM, flags: string[] = []): Promise<void> {
  const env = { ...process.env };
  delete env.PYTHONUNBUFFERED;
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [...flags, '-c', program], { stdio: ['ignore', 'pipe', 'pipe'], env });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

function inSandbox(backend: SandboxBackend, i: number, code = PROGRAM): () => Promise<void> {
  return async () => {
    const r = await backend.run({ code, environment: 'python', limits: DEFAULT_LIMITS, runId: `bench-${i}` });
    if (r.reason !== 'exit_zero') throw new Error(`${backend.name}: ${r.message} ${r.stderr}`);
  };
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function throughput(run: () => Promise<void>, total: number): Promise<number> {
  let started = 0;
  const t = performance.now();
  const lane = async () => {
    while (started < total) {
      started++;
      await run();
    }
  };
  await Promise.all([lane(), lane()]);
  return total / ((performance.now() - t) / 1000);
}

export async function runSandboxBench(opts: { runs?: number; backends?: SandboxBackends } = {}): Promise<SandboxBenchResult> {
  const runs = opts.runs ?? 60;
  const backends = opts.backends ?? (await createSandboxBackends());
  const skipped: Record<string, string> = {};
  const contenders: Array<[string, (i: number) => () => Promise<void>]> = [['bare', () => () => bare()]];
  const flooders: Array<[string, (i: number) => () => Promise<void>]> = [
    ['bare-buffered', () => () => bare(FLOOD_PROGRAM)],
    ['bare-unbuffered', () => () => bare(FLOOD_PROGRAM, ['-u'])],
  ];
  for (const [name, backend] of Object.entries(backends)) {
    const health = await backend.health();
    if (health.ok) {
      contenders.push([name, (i) => inSandbox(backend, i)]);
      flooders.push([name, (i) => inSandbox(backend, i, FLOOD_PROGRAM)]);
    } else skipped[name] = health.detail;
  }
  // gVisor's same-run baseline: every sandbox booted on demand, as before warm gVisor sandboxes.
  const gvisorCold = contenders.some(([name]) => name === 'gvisor') ? new GvisorBackend({ cgroups: cgroupDriver(), warmSandboxes: 0 }) : null;
  if (gvisorCold) contenders.push([GVISOR_COLD, (i) => inSandbox(gvisorCold, i)]);
  try {
    // Warm-up: page cache, pools, JIT.
    for (const [, make] of contenders) for (let i = 0; i < 3; i++) await make(i)();
    const samples = new Map<string, number[]>(contenders.map(([n]) => [n, []]));
    for (let i = 0; i < runs; i++) {
      for (const [name, make] of contenders) samples.get(name)!.push(await timed(make(i)));
    }
    const latency: Record<string, LatencyStats> = {};
    const bareMedian = quantile(
      [...samples.get('bare')!].sort((a, b) => a - b),
      0.5,
    );
    for (const [name, values] of samples) {
      const sorted = [...values].sort((a, b) => a - b);
      const median = quantile(sorted, 0.5);
      latency[name] = {
        runs: sorted.length,
        median_ms: round(median),
        p95_ms: round(quantile(sorted, 0.95)),
        overhead_median_ms: name === 'bare' ? null : round(median - bareMedian),
      };
    }
    const throughput_2_parallel: Record<string, number> = {};
    for (const [name, make] of contenders) {
      const total = name.startsWith('gvisor') ? Math.max(10, Math.round(runs / 3)) : runs;
      let i = 0;
      throughput_2_parallel[name] = round(await throughput(() => make(i++)(), total));
    }
    const floods = new Map<string, number[]>(flooders.map(([n]) => [n, []]));
    for (let i = 0; i < FLOOD_RUNS; i++) {
      for (const [name, make] of flooders) floods.get(name)!.push(await timed(make(i)));
    }
    const flood_median_ms = Object.fromEntries(
      [...floods].map(([name, values]) => [
        name,
        round(
          quantile(
            values.sort((a, b) => a - b),
            0.5,
          ),
        ),
      ]),
    );
    return { program: PROGRAM, latency, throughput_2_parallel, flood_median_ms, skipped };
  } finally {
    await gvisorCold?.close();
    if (!opts.backends) await closeSandboxBackends(backends);
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export interface LaunchCost {
  launches: number;
  /** Synchronous time of the start call: the event loop does nothing else meanwhile. */
  block_median_ms: number;
  block_p95_ms: number;
  /** The server process's user+system CPU per launch, start to drained exit. */
  server_cpu_ms_per_launch: number;
}

/** Starts `/bin/true` with the five launch streams `launches` times in a row, through `start`. */
async function launchCost(start: StartLauncher, launches: number): Promise<LaunchCost> {
  const cmd = { command: '/bin/true', args: [], env: {}, codeFd: true };
  for (let i = 0; i < 5; i++) await new Launch(cmd, start).done; // warm-up
  const blocks: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < launches; i++) {
    const t = performance.now();
    const launch = new Launch(cmd, start);
    blocks.push(performance.now() - t);
    launch.abandon();
    await launch.done;
    if (launch.spawnError) throw new Error(launch.spawnError);
  }
  const used = process.cpuUsage(cpu);
  blocks.sort((a, b) => a - b);
  return {
    launches,
    block_median_ms: round2(quantile(blocks, 0.5)),
    block_p95_ms: round2(quantile(blocks, 0.95)),
    server_cpu_ms_per_launch: round2((used.user + used.system) / 1000 / launches),
  };
}

export async function runLaunchCostBench(opts: { ballastMb?: number; launches?: number } = {}) {
  // Touched buffers, so the pages (and page tables a fork must copy) really exist.
  const ballast = Array.from({ length: opts.ballastMb ?? 120 }, () => Buffer.alloc(1024 * 1024, 1));
  const rssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  const launches = opts.launches ?? 200;
  const spawner = Spawner.start(join(DEFAULT_NATIVE_DIR, SPAWNER_BINARY), () => undefined);
  try {
    const direct = await launchCost(spawnDirectly, launches);
    const viaSpawner = await launchCost((cmd, events) => spawner.launch(cmd, events), launches);
    return { rss_mb: rssMb, ballast_mb: ballast.length, direct_spawn: direct, spawner: viaSpawner };
  } finally {
    spawner.close();
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function printTable(r: SandboxBenchResult): void {
  console.log(`Sandbox start-up: ${JSON.stringify(r.program)} (interleaved)`);
  console.log('backend      median ms   p95 ms   +median ms   runs/s (2 parallel)');
  for (const [name, s] of Object.entries(r.latency)) {
    const over = s.overhead_median_ms === null ? '—' : `+${s.overhead_median_ms}`;
    console.log(
      `${name.padEnd(12)} ${String(s.median_ms).padStart(9)} ${String(s.p95_ms).padStart(8)} ${over.padStart(12)} ${String(r.throughput_2_parallel[name] ?? '').padStart(21)}`,
    );
  }
  console.log(`Output flood: ${FLOOD_LINES} printed lines, median ms`);
  for (const [name, ms] of Object.entries(r.flood_median_ms)) console.log(`${name.padEnd(16)} ${String(ms).padStart(9)}`);
  for (const [name, why] of Object.entries(r.skipped)) console.log(`${name}: skipped (${why})`);
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv.includes('--launch-cost')) {
  const r = await runLaunchCostBench({ ballastMb: arg('--ballast-mb'), launches: arg('--runs') });
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(`Launch cost to the server at ${r.rss_mb} MB RSS (${r.direct_spawn.launches} sequential launches of /bin/true with 5 streams)`);
    console.log('source          block median ms   block p95 ms   server CPU ms/launch');
    for (const [name, c] of [
      ['plain spawn', r.direct_spawn],
      ['spawner', r.spawner],
    ] as const) {
      console.log(
        `${name.padEnd(15)} ${String(c.block_median_ms).padStart(15)} ${String(c.block_p95_ms).padStart(14)} ${String(c.server_cpu_ms_per_launch).padStart(22)}`,
      );
    }
  }
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : undefined;
  const result = await runSandboxBench({ runs });
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else printTable(result);
}
