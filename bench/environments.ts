/**
 * Per environment built on this host, each sandboxed figure next to the same environment's own
 * Python run bare (chroot into its rootfs as uid 65534 with the sandbox's variables: same files,
 * same user, no namespaces, seccomp or cgroups), all in the same run:
 *
 * - start latency of `print(1)`: a sandbox set up for the run (cold) and one taken from the pool
 *   (warm), bubblewrap;
 * - the time of importing the environment's heavy libraries (numpy + pandas, torch), measured
 *   inside the program, bare vs warm bubblewrap vs gVisor;
 * - a data-science workload (small pandas/numpy programs, 2 at a time) on python-data: throughput
 *   bare vs warm bubblewrap, every program's output compared between the two.
 *
 * The target for warm runs is 1.5× bare. Environments not built here are skipped with a line saying
 * how to build them. Bounded: the counts are small, and gVisor's import runs (ptrace: import-heavy
 * code is many times slower) are capped.
 */
import { spawn } from 'node:child_process';
import type { Environment } from '../src/domain/evaluation.js';
import { buildCommand } from '../src/domain/environments.js';
import { ENVIRONMENTS } from '../src/domain/evaluation.js';
import { DEFAULT_LIMITS } from '../src/domain/limits.js';
import type { SandboxBackend } from '../src/ports/sandbox.js';
import { ENVIRONMENT_PYTHON, rootfsResolver } from '../src/sandbox/environments/rootfs.js';
import { BubblewrapBackend, cgroupDriver, GvisorBackend } from '../src/sandbox/index.js';
import { sandboxEnvironment } from '../src/sandbox/program-environment.js';
import type { Row, Section } from './lib/section.js';
import { pool, round, sleep } from './lib/stats.js';

export interface EnvironmentsBenchOptions {
  /** print(1) runs per environment, cold and warm each. */
  runs: number;
  /** Import-time runs per environment (bare and bubblewrap; gVisor at most 3). */
  importRuns: number;
  /** Programs in the data-science workload (run bare, then sandboxed, 2 at a time). */
  workload: number;
  /** Seconds the workload may take (both sides); fewer programs run when the host is too slow for all. */
  workloadBudgetS?: number;
}

const IMPORTS: Partial<Record<Environment, string>> = {
  'python-data': 'numpy, pandas',
  'python-ml': 'torch',
  'python-3.13': 'numpy',
};
/** The environment the data-science workload runs in. */
const WORKLOAD_ENVIRONMENT: Environment = 'python-data';
const CONCURRENCY = 2;
const TARGET = 1.5;
const GVISOR_IMPORT_RUNS = 3;
/** A gVisor import slower than this is not repeated (ptrace: torch's import takes many seconds). */
const GVISOR_REPEAT_BELOW_MS = 8000;
const WORKLOAD_SHAPES = 4;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return round(s[Math.floor(s.length / 2)]!);
};
const ratio = (a: number, b: number) => round(a / b, 2);

let counter = 0;
async function sandboxed(backend: SandboxBackend, environment: Environment, code: string): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  const r = await backend.run({
    code,
    environment,
    limits: { ...DEFAULT_LIMITS, memory_mb: 2048, timeout_s: 120 },
    runId: `benv${process.pid}-${counter++}`,
  });
  if (r.reason !== 'exit_zero') throw new Error(`${backend.name}/${environment}: ${r.reason} ${r.message} ${r.stderr.slice(-300)}`);
  return { ms: performance.now() - started, stdout: r.stdout };
}

/**
 * The environment's Python without the sandbox: chroot into its rootfs as nobody (so nothing can be
 * written into the tree, .pyc files included) with the variables a sandboxed program gets.
 */
function bare(rootfs: string, code: string): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/sbin/chroot', ['--userspec=65534:65534', rootfs, ENVIRONMENT_PYTHON, '-c', code], {
      env: sandboxEnvironment(),
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve({ ms: performance.now() - started, stdout }) : reject(new Error(`bare chroot ${rootfs}: exit ${code} ${stderr.slice(-300)}`)),
    );
  });
}

const importProgram = (modules: string) => `import time\nt = time.perf_counter()\nimport ${modules}\nprint((time.perf_counter() - t) * 1000)`;

/**
 * Small, deterministic data-science programs of four shapes (group-by, pivot and rolling window,
 * linear algebra, merge and describe), each seeded, so bare and sandboxed output must be equal.
 */
export function workloadPrograms(n: number): string[] {
  const shapes = [
    (seed: number) => `import numpy as np, pandas as pd
rng = np.random.default_rng(${seed})
df = pd.DataFrame({"team": rng.integers(0, 8, 4000), "score": rng.normal(50, 10, 4000)})
print(df.groupby("team")["score"].agg(["count", "mean", "std"]).round(3).to_csv())`,
    (seed: number) => `import numpy as np, pandas as pd
rng = np.random.default_rng(${seed})
days = pd.date_range("2026-01-01", periods=365, freq="D")
df = pd.DataFrame({"day": days, "city": rng.choice(["a", "b", "c"], 365), "t": rng.normal(12, 6, 365)})
df["month"] = df["day"].dt.month
print(df.pivot_table(index="month", columns="city", values="t", aggfunc="mean").round(2).to_csv())
print(df["t"].rolling(7).mean().dropna().round(3).tail(5).tolist())`,
    (seed: number) => `import numpy as np
rng = np.random.default_rng(${seed})
a = rng.normal(size=(120, 120))
b = rng.normal(size=120)
x = np.linalg.solve(a @ a.T + np.eye(120), b)
print(round(float(np.linalg.norm(x)), 6), round(float(np.linalg.eigvalsh(a @ a.T).max()), 3))`,
    (seed: number) => `import numpy as np, pandas as pd
rng = np.random.default_rng(${seed})
people = pd.DataFrame({"id": range(500), "age": rng.integers(18, 90, 500)})
orders = pd.DataFrame({"id": rng.integers(0, 500, 3000), "amount": rng.exponential(30, 3000)})
merged = orders.merge(people, on="id")
merged["band"] = pd.cut(merged["age"], [17, 30, 50, 70, 90])
print(merged.groupby("band", observed=True)["amount"].sum().round(2).to_csv())
print(merged["amount"].describe().round(3).to_csv())`,
  ];
  return Array.from({ length: n }, (_, i) => shapes[i % shapes.length]!(i));
}

/** Runs every program 2 at a time; the wall time of the whole batch and each program's stdout. */
async function throughput(run: (code: string) => Promise<{ stdout: string }>, programs: string[]): Promise<{ seconds: number; outputs: string[] }> {
  const t = performance.now();
  const outputs = await pool(programs, CONCURRENCY, async (code) => (await run(code)).stdout);
  return { seconds: (performance.now() - t) / 1000, outputs };
}

export async function environmentsBench(opts: EnvironmentsBenchOptions): Promise<Section> {
  const builtHere = rootfsResolver();
  const cgroups = cgroupDriver();
  const rows: Row[] = [];
  const notes: string[] = [];
  const data: Record<string, unknown> = {};
  const cold = new BubblewrapBackend({ cgroups, warmSandboxes: 0 });
  // As a worker keeps them: warm sandboxes per environment, one per concurrent run.
  const warm = new BubblewrapBackend({ cgroups, warmSandboxes: CONCURRENCY });
  const gvisor = new GvisorBackend({ cgroups });
  const gvisorOk = (await gvisor.health()).ok;
  try {
    for (const environment of ENVIRONMENTS) {
      const rootfs = builtHere(environment);
      if (!rootfs) {
        notes.push(`${environment}: not built on this host, skipped (${buildCommand(environment)})`);
        continue;
      }
      // Page cache and the pool warm for this environment before anything is timed.
      await bare(rootfs, 'print(1)');
      await sandboxed(warm, environment, 'print(1)');

      const bareMs: number[] = [];
      const coldMs: number[] = [];
      const warmMs: number[] = [];
      for (let i = 0; i < opts.runs; i++) {
        bareMs.push((await bare(rootfs, 'print(1)')).ms);
        coldMs.push((await sandboxed(cold, environment, 'print(1)')).ms);
        await sleep(100); // the pool sets up the next warm sandbox, as it does between a worker's jobs
        warmMs.push((await sandboxed(warm, environment, 'print(1)')).ms);
      }
      rows.push({
        metric: `${environment}: print(1) cold / warm bubblewrap vs bare chroot (ms, median)`,
        crucible: `${median(coldMs)} / ${median(warmMs)}`,
        baseline: median(bareMs),
        ratio: ratio(median(warmMs), median(bareMs)),
        target: `warm ≤ ${TARGET}× bare`,
        met: median(warmMs) <= TARGET * median(bareMs),
      });
      const envData: Record<string, unknown> = { startBareMs: bareMs, startColdMs: coldMs, startWarmMs: warmMs };
      data[environment] = envData;

      const modules = IMPORTS[environment];
      if (modules) {
        const program = importProgram(modules);
        const importBare: number[] = [];
        const importBwrap: number[] = [];
        const importGvisor: number[] = [];
        for (let i = 0; i < opts.importRuns; i++) {
          importBare.push(Number((await bare(rootfs, program)).stdout));
          await sleep(100);
          importBwrap.push(Number((await sandboxed(warm, environment, program)).stdout));
          const gvisorRepeats = i < GVISOR_IMPORT_RUNS && (i === 0 || importGvisor[0]! < GVISOR_REPEAT_BELOW_MS);
          if (gvisorOk && gvisorRepeats) importGvisor.push(Number((await sandboxed(gvisor, environment, program)).stdout));
        }
        rows.push({
          metric: `${environment}: import ${modules}, warm bubblewrap vs bare chroot (ms, median)`,
          crucible: median(importBwrap),
          baseline: median(importBare),
          ratio: ratio(median(importBwrap), median(importBare)),
          target: `≤ ${TARGET}× bare`,
          met: median(importBwrap) <= TARGET * median(importBare),
        });
        if (importGvisor.length) {
          rows.push({
            metric: `${environment}: import ${modules}, gVisor vs bare chroot (ms, median of ${importGvisor.length})`,
            crucible: median(importGvisor),
            baseline: median(importBare),
            ratio: ratio(median(importGvisor), median(importBare)),
          });
        }
        Object.assign(envData, { importBareMs: importBare, importBubblewrapMs: importBwrap, importGvisorMs: importGvisor });
      }

      if (environment === WORKLOAD_ENVIRONMENT && opts.workload > 0) {
        // Each program costs about one bare import of numpy + pandas: as many as fit the budget.
        const perProgramS = (median((envData.importBareMs as number[] | undefined) ?? [500]) + 100) / 1000;
        const fit = Math.floor((((opts.workloadBudgetS ?? 60) / 2) * (CONCURRENCY / perProgramS)) / WORKLOAD_SHAPES) * WORKLOAD_SHAPES;
        const count = Math.max(WORKLOAD_SHAPES * 2, Math.min(opts.workload, fit));
        if (count < opts.workload)
          notes.push(`${environment}: workload cut to ${count} of ${opts.workload} programs to stay within ${opts.workloadBudgetS ?? 60} s on this host`);
        const programs = workloadPrograms(count);
        const bareRun = await throughput((code) => bare(rootfs, code), programs);
        const sandboxRun = await throughput((code) => sandboxed(warm, environment, code), programs);
        const differing = programs.filter((_, i) => bareRun.outputs[i] !== sandboxRun.outputs[i]).length;
        if (differing) throw new Error(`${differing} of ${programs.length} workload programs printed something else in the sandbox than bare`);
        const rate = (s: number) => round(programs.length / s, 2);
        rows.push({
          metric: `${environment}: ${programs.length} pandas/numpy programs, ${CONCURRENCY} at a time, warm bubblewrap vs bare (programs/s)`,
          crucible: rate(sandboxRun.seconds),
          baseline: rate(bareRun.seconds),
          ratio: ratio(rate(sandboxRun.seconds), rate(bareRun.seconds)),
          target: `≥ ${round(1 / TARGET, 2)}× bare (within ${TARGET}×)`,
          met: sandboxRun.seconds <= TARGET * bareRun.seconds,
          note: 'same output, program by program',
        });
        Object.assign(envData, { workloadPrograms: programs.length, workloadBareS: bareRun.seconds, workloadBubblewrapS: sandboxRun.seconds });
      }
    }
  } finally {
    await Promise.all([cold.close(), warm.close(), gvisor.close()]);
  }
  if (!gvisorOk) notes.push('gvisor unavailable: its import figures are skipped');
  notes.push("bare = chroot into the environment as uid 65534 with the sandbox's variables (PYTHONDONTWRITEBYTECODE, HOME=/tmp)");
  return {
    name: 'environments',
    title: `Environments: start latency (${opts.runs} runs), library import time (${opts.importRuns}), data-science throughput (${opts.workload} programs)`,
    rows,
    notes,
    data,
  };
}
