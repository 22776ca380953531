/**
 * Where the CPU of one bubblewrap sandbox goes, stage by stage: the real launcher, bwrap and init
 * command lines (built by the same functions the backend uses), each cut after one more stage and
 * ending in `/bin/true`, measured with `perf stat -e task-clock` (CPU of every process of the
 * command, kernel work included; not the network namespace's teardown, which the kernel does
 * later in a worker thread). Variants run interleaved, so a noisy machine hits them alike; the
 * baseline is a bare `/bin/true` (and a bare `python3 main.py`) in the same run.
 *
 *   npx tsx bench/sandbox-stages.ts [--runs 30]      (root, perf installed, python built)
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS } from '../src/domain/limits.js';
import { bwrapArgs, SCRATCH_MOUNTS } from '../src/sandbox/bubblewrap/bwrap-args.js';
import { ENVIRONMENT_PYTHON, rootfsResolver } from '../src/sandbox/environments/rootfs.js';
import { launcherArgs, nativeHelpers, type LauncherOptions } from '../src/sandbox/native.js';
import { sandboxEnvironment } from '../src/sandbox/program-environment.js';
import { programBundle } from '../src/sandbox/run/program-bundle.js';
import { distribution } from './lib/stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(values.runs);
const rootfs = rootfsResolver()('python');
if (!rootfs) throw new Error('the python environment is not built here');
const helpers = nativeHelpers();
const dir = mkdtempSync(join(tmpdir(), 'crucible-stages-'));
const spec = (code: string, command?: string[]) => ({
  code,
  command,
  environment: 'python' as const,
  limits: { ...DEFAULT_LIMITS, max_artifacts: 0 },
  runId: 'stages',
});
writeFileSync(join(dir, 'true.bundle'), programBundle(spec('', ['/bin/true']), ENVIRONMENT_PYTHON));
writeFileSync(join(dir, 'print1.bundle'), programBundle(spec('print(1)\n'), ENVIRONMENT_PYTHON));
writeFileSync(join(dir, 'main.py'), 'print(1)\n');

const scratchBytes = DEFAULT_LIMITS.scratch_mb * 1024 * 1024;
const scratch = Object.values(SCRATCH_MOUNTS).map((d) => ({ dir: d, sizeBytes: scratchBytes, inodes: 16384 }));
const drop = { uid: 1_900_999_999, gid: 1_900_999_999 };
const launcher = (opts: Partial<LauncherOptions>, program: string[]) => [
  helpers.launcher,
  ...launcherArgs({ cgroupDirs: [], dropTo: drop, ...opts }, program[0]!, program.slice(1)),
];
const full: Partial<LauncherOptions> = { seccompFd: 5, seccompBpf: helpers.seccompBpf, openFd: { fd: 6, path: helpers.init }, scratch };
const bwrap = bwrapArgs({ initFd: 6, rootfs, seccompFd: 5 });
const untilInit = bwrap.slice(0, bwrap.indexOf('--') + 1);

/** `over`: the variant this one adds a stage to (its cost is the difference). */
const variants: Array<{ name: string; argv: string[]; bundle?: string; over?: number }> = [
  { name: 'bare /bin/true', argv: ['/bin/true'] },
  { name: 'launcher (uid drop, reaper) → true', argv: launcher({}, ['/bin/true']), over: 0 },
  { name: '+ seccomp compiled at each launch (before)', argv: launcher({ ...full, seccompBpf: undefined }, ['/bin/true']), over: 1 },
  { name: '+ seccomp from the build, init fd, scratch mounts', argv: launcher(full, ['/bin/true']), over: 1 },
  { name: '+ bwrap: namespaces, mounts, seccomp → true', argv: launcher(full, ['/usr/bin/bwrap', ...untilInit, '/bin/true']), over: 3 },
  { name: '+ crucible-init → /bin/true (a whole sandbox)', argv: launcher(full, ['/usr/bin/bwrap', ...bwrap]), over: 4 },
  { name: 'bare python3 main.py (print(1))', argv: [ENVIRONMENT_PYTHON, join(dir, 'main.py')] },
  { name: 'sandbox: python3 main.py (print(1))', argv: launcher(full, ['/usr/bin/bwrap', ...bwrap]), bundle: 'print1.bundle', over: 6 },
];

/** CPU ms of one run of argv and all its processes. */
function cpuMs(argv: string[], bundle?: string): number {
  const code = openSync(join(dir, bundle ?? 'true.bundle'), 'r');
  try {
    // perf reports on stderr; fd 3 (status) is dropped, fd 4 carries the program to crucible-init.
    const { stderr } = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '--', ...argv], {
      env: sandboxEnvironment(),
      stdio: ['ignore', 'ignore', 'pipe', 'ignore', code],
    });
    const line = stderr
      .toString()
      .split('\n')
      .find((l) => l.includes('task-clock'));
    return Number(line?.split(',')[0]);
  } finally {
    closeSync(code);
  }
}

const samples = variants.map(() => [] as number[]);
try {
  for (let r = 0; r < runs; r++) variants.forEach((v, i) => samples[i]!.push(cpuMs(v.argv, v.bundle)));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const medians = samples.map((s) => distribution(s).p50);
console.log(`CPU per command (perf task-clock, median of ${runs} interleaved runs; ms; in brackets: over the line named)`);
variants.forEach((v, i) => {
  const delta = v.over === undefined ? null : medians[i]! - medians[v.over]!;
  const step = delta === null ? '' : `(${delta >= 0 ? '+' : ''}${delta.toFixed(2)} over ${v.over! + 1})`;
  console.log(`${String(i + 1).padStart(2)}. ${medians[i]!.toFixed(2).padStart(7)}  ${step.padEnd(18)} ${v.name}`);
});
