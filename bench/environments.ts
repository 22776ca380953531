/**
 * Per environment built on this host: sandbox start latency (cold: a sandbox set up for the run;
 * warm: one taken from the pool), and the time of importing its heavy libraries (numpy + pandas,
 * torch) inside each sandbox against the same environment's own Python run bare (chroot into its
 * rootfs, as root), all in the same run.
 */
import { execFileSync } from 'node:child_process';
import type { Environment } from '../src/domain/evaluation.js';
import { ENVIRONMENTS } from '../src/domain/evaluation.js';
import { DEFAULT_LIMITS } from '../src/domain/limits.js';
import type { SandboxBackend } from '../src/ports/sandbox.js';
import { rootfsResolver } from '../src/sandbox/environments/rootfs.js';
import { BubblewrapBackend, cgroupDriver, GvisorBackend } from '../src/sandbox/index.js';
import type { Row, Section } from './lib/section.js';

const IMPORTS: Partial<Record<Environment, string>> = {
  'python-data': 'numpy, pandas',
  'python-ml': 'numpy, pandas, torch',
  'python-3.13': 'numpy',
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]! * 10) / 10;
};

let counter = 0;
async function wallMs(backend: SandboxBackend, environment: Environment, code: string): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  const r = await backend.run({ code, environment, limits: { ...DEFAULT_LIMITS, memory_mb: 2048, timeout_s: 120 }, runId: `benv${process.pid}-${counter++}` });
  if (r.reason !== 'exit_zero') throw new Error(`${backend.name}/${environment}: ${r.reason} ${r.stderr.slice(-300)}`);
  return { ms: performance.now() - started, stdout: r.stdout };
}

const importProgram = (modules: string) => `import time\nt = time.perf_counter()\nimport ${modules}\nprint((time.perf_counter() - t) * 1000)`;

export async function environmentsBench(opts: { runs: number }): Promise<Section> {
  const builtHere = rootfsResolver();
  const cgroups = cgroupDriver();
  const rows: Row[] = [];
  const notes: string[] = [];
  const data: Record<string, unknown> = {};
  const cold = new BubblewrapBackend({ cgroups, warmSandboxes: 0 });
  const warm = new BubblewrapBackend({ cgroups, warmSandboxes: 1 });
  const gvisor = new GvisorBackend({ cgroups });
  const gvisorOk = (await gvisor.health()).ok;
  try {
    for (const environment of ENVIRONMENTS) {
      const rootfs = builtHere(environment);
      if (!rootfs) {
        notes.push(`${environment}: not built on this host, skipped`);
        continue;
      }
      const coldMs: number[] = [];
      const warmMs: number[] = [];
      for (let i = 0; i < opts.runs; i++) {
        coldMs.push((await wallMs(cold, environment, 'print(1)')).ms);
        await new Promise((r) => setTimeout(r, 100)); // let the pool set up the next warm sandbox
        warmMs.push((await wallMs(warm, environment, 'print(1)')).ms);
      }
      rows.push({ metric: `${environment}: print(1) cold / warm, bubblewrap (ms, median)`, crucible: `${median(coldMs)} / ${median(warmMs)}` });
      const modules = IMPORTS[environment];
      if (!modules) continue;
      const program = importProgram(modules);
      const bare: number[] = [];
      const bwrap: number[] = [];
      const gv: number[] = [];
      for (let i = 0; i < Math.max(3, Math.round(opts.runs / 4)); i++) {
        bare.push(Number(execFileSync('chroot', [rootfs, '/usr/bin/python3', '-c', program], { encoding: 'utf8' })));
        bwrap.push(Number((await wallMs(warm, environment, program)).stdout));
        if (gvisorOk) gv.push(Number((await wallMs(gvisor, environment, program)).stdout));
      }
      rows.push({
        metric: `${environment}: import ${modules}, bubblewrap vs bare chroot (ms, median)`,
        crucible: median(bwrap),
        baseline: median(bare),
        ratio: Math.round((median(bwrap) / median(bare)) * 100) / 100,
        target: '≤ 1.5× bare',
        met: median(bwrap) <= 1.5 * median(bare),
      });
      if (gvisorOk) {
        rows.push({
          metric: `${environment}: import ${modules}, gVisor vs bare chroot (ms, median)`,
          crucible: median(gv),
          baseline: median(bare),
          ratio: Math.round((median(gv) / median(bare)) * 100) / 100,
        });
      }
      data[environment] = { coldMs, warmMs, importBareMs: bare, importBubblewrapMs: bwrap, importGvisorMs: gv };
    }
  } finally {
    await Promise.all([cold.close(), warm.close(), gvisor.close()]);
  }
  if (!gvisorOk) notes.push('gvisor unavailable: its import figures are skipped');
  return { name: 'environments', title: `Environments: start latency and library import time, ${opts.runs} runs each`, rows, notes, data };
}
