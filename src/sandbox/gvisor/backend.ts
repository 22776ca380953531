/**
 * The gVisor backend: every program runs on runsc's user-space kernel (systrap platform with
 * Debian 13's runsc, ptrace with Debian 12's; no network) over a shared read-only Debian rootfs,
 * with the same cgroup limits and accounting as bubblewrap on the host side (the whole runsc
 * process tree is in the run's cgroup). Programs run on their environment's read-only root
 * filesystem, the same tree bubblewrap uses. With Debian 13's runsc, crucible-init is the container's
 * PID 1 and reports the program's start and raw wait status as under bubblewrap, and sandboxes
 * are booted ahead of time (runsc's ~150+ ms start-up off the run's path): each waits in init for
 * exactly one program, like bubblewrap's warm sandboxes. Slower to make system calls, but the
 * program never talks to the host kernel.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxEnvironment } from '../program-environment.js';
import type { SandboxCgroup } from '../cgroups/driver.js';
import { ownInstanceName } from '../cgroups/ownership.js';
import { launcherArgs, nativeHelpers, type NativeHelpers } from '../native.js';
import { CgroupSandboxBackend, type CgroupBackendOptions } from '../run/cgroup-backend.js';
import { Launch } from '../run/launch.js';
import type { SandboxStarter } from '../run/runner.js';
import type { SandboxSpec } from '../../ports/sandbox.js';
import { CODE_FD, STATUS_FD } from '../run/launch-fds.js';
import { MAIN_FILE, SANDBOX_WORKDIR } from '../../domain/program-files.js';
import { SANDBOX_INIT_PATH } from '../bubblewrap/bwrap-args.js';
import { aheadPython, ENVIRONMENT_PYTHON, requireRootfs, rootfsResolver, type RootfsResolver } from '../environments/rootfs.js';
import { ociSpec } from './oci-spec.js';
import { chooseRunsc, type RunscBinary } from './runsc-binary.js';
import { runscDied, runscFailure } from './runsc-failures.js';
import { PageCacheCharge } from './page-cache.js';
import { cleanupStaleStateDirs, containerLeftBehind, deleteContainer, removeStateDir } from './runsc-state.js';
import { gvisorSandboxKey, parseGvisorSandboxKey } from './sandbox-key.js';
import { DEFAULT_LIMITS } from '../../domain/limits.js';

export interface GvisorOptions extends CgroupBackendOptions {
  /** Default: the project's runsc from scripts/install-runsc.sh, else Debian's (see runsc-binary.ts). */
  runscPath?: string;
  /** Root filesystem of each environment (default: the environments built on this host). */
  rootfsOf?: RootfsResolver;
  /** Parent of each server's runsc state directory and run bundles. */
  stateRoot?: string;
  nativeDir?: string;
  uid?: number;
  gid?: number;
  /**
   * Sandboxes booted ahead of time, waiting in crucible-init for their program (0 = boot every
   * sandbox on demand). Needs a runsc with --pass-fd; without it every sandbox starts cold.
   */
  warmSandboxes?: number;
  /**
   * Boot the default run's warm sandboxes when the backend starts (default: no, they are booted
   * from the first gVisor run on, for that run's key). Most servers never run gVisor, and two
   * idle runsc sandboxes in every process that starts would cost each ~0.5 s of CPU and tens of MB.
   */
  warmAtStart?: boolean;
}

const CODE_PATH = `${SANDBOX_WORKDIR}/${MAIN_FILE}`;
/**
 * Host tasks of runsc itself (the run command, gofer, sentry threads, ptrace stubs): a low host
 * pids.max crashes the sandbox, so the host cap is generous and the program's own limit is
 * enforced inside gVisor (RLIMIT_NPROC and the spec's pids limit).
 */
const HOST_TASK_ALLOWANCE = 1024;
/**
 * Memory of the sentry and gofer themselves (~21 MB measured for print(1)), on top of the
 * program's limit in the host cgroup, which also holds the program's memory (the sentry backs
 * it). gVisor does not enforce the spec's memory limit by itself. Only while runsc starts: once
 * the program has started, the limit becomes what runsc holds then + memory_mb
 * (run/program-start.ts; Debian 12's runsc cannot say when, and keeps this allowance).
 */
const HOST_MEMORY_ALLOWANCE = 32 * 1024 * 1024;
/** Extra time before the timeout counts, for runsc start-up (a runsc without --pass-fd, which cannot say when the program starts). */
const STARTUP_GRACE_MS = 1000;
/**
 * How long runsc may take to start the program (~0.2-0.4 s normally; ~2 s at cpus 0.1, since the
 * CFS quota applies to runsc's start-up too). Beyond it the run is a platform error.
 */
const STARTUP_LIMIT_MS = 30_000;

let containerCounter = 0;

export class GvisorBackend extends CgroupSandboxBackend {
  readonly name = 'gvisor' as const;
  private readonly runscBinary: RunscBinary;
  private readonly runsc: string;
  private readonly rootfsOf: RootfsResolver;
  private readonly stateDir: string;
  private readonly bundles: string;
  private readonly helpers: NativeHelpers;
  private seccomp: object | null = null;
  private readonly containers = new WeakMap<Launch, { id: string; bundle: string }>();
  /** runsc's code is charged to the server, never to a sandbox (see page-cache.ts). */
  private readonly runscPages: PageCacheCharge;

  constructor(private readonly options: GvisorOptions) {
    super(options);
    this.runscBinary = chooseRunsc(options.runscPath);
    this.runsc = this.runscBinary.path;
    this.rootfsOf = options.rootfsOf ?? rootfsResolver();
    this.stateDir = join(options.stateRoot ?? '/run/crucible/gvisor', ownInstanceName());
    this.bundles = join(this.stateDir, 'bundles');
    this.helpers = nativeHelpers(options.nativeDir);
    this.runscPages = new PageCacheCharge([this.runsc]);
  }

  protected starter(): SandboxStarter {
    return {
      prefix: 'gvisor',
      // The bundle fixes the environment and the limits gVisor's kernel sees (sandbox-key.ts);
      // the program arrives later through crucible-init, so booted sandboxes can wait for it.
      keyOf: (spec) => gvisorSandboxKey(spec.environment, spec.limits),
      groupOf: (key) => parseGvisorSandboxKey(key).environment,
      start: (key, cgroup, spec) => this.start(key, cgroup, spec),
      // Without init the code is bound into the bundle, which must exist before runsc starts.
      warmSandboxes: this.runscBinary.passFd ? (this.options.warmSandboxes ?? 2) : 0,
      overhead: { tasks: HOST_TASK_ALLOWANCE, memoryBytes: HOST_MEMORY_ALLOWANCE },
      // With --pass-fd, crucible-init reports start and raw wait status as under bubblewrap.
      supervise: {
        reportsStatus: this.runscBinary.passFd,
        python: ENVIRONMENT_PYTHON,
        startupGraceMs: STARTUP_GRACE_MS,
        // Time, CPU, memory and the memory limit are the program's, not runsc's start-up.
        measureFromProgramStart: this.runscBinary.passFd ? { startupLimitMs: STARTUP_LIMIT_MS } : undefined,
        startFailure: runscFailure,
        unreportedEnding: runscDied,
      },
      // Before any sandbox boots, warm or cold: runsc's pages are charged to the server.
      beforeStart: () => this.runscPages.refresh(),
      afterRun: (launch) => this.afterRun(launch),
    };
  }

  protected requirements() {
    const problems: string[] = [];
    // The default environment must be built here; others are checked when a run asks for them.
    const rootfs = this.rootfsOf('python');
    if (!rootfs) problems.push('the python environment is not built on this host (crucible env build python, or npm start)');
    else if (!existsSync(join(rootfs, SANDBOX_INIT_PATH))) {
      problems.push(`the python environment at ${rootfs} lacks the ${SANDBOX_INIT_PATH} mount point (rebuild it: crucible env build python --force)`);
    }
    return { executables: [this.runsc, this.helpers.launcher, this.helpers.init], problems };
  }

  protected override defaultSpec(): SandboxSpec | null {
    if (!this.options.warmAtStart || !this.runscBinary.passFd) return null;
    return { code: '', environment: 'python', limits: DEFAULT_LIMITS, runId: 'default' };
  }

  /** Boots a sandbox for `key`: for `spec`, or ahead of time (spec null) for any run with that key. */
  private start(key: string, cgroup: SandboxCgroup, spec: SandboxSpec | null): Launch {
    const { environment, limits } = parseGvisorSandboxKey(key);
    const rootfs = requireRootfs(this.rootfsOf, environment);
    // A recycled cgroup still has its last run's limits (perhaps a tiny CPU share); the boot gets
    // this key's own, which the runner applies again when a run takes the sandbox.
    cgroup.applyLimits({
      memoryBytes: limits.memory_mb * 1024 * 1024 + HOST_MEMORY_ALLOWANCE,
      pidsMax: limits.max_processes + HOST_TASK_ALLOWANCE,
      cpus: limits.cpus,
    });
    const id = `crucible-${process.pid}-${containerCounter++}`;
    const bundle = join(this.bundles, id);
    mkdirSync(bundle, { recursive: true, mode: 0o700 });
    const withInit = this.runscBinary.passFd;
    const codeFile = join(bundle, MAIN_FILE);
    if (!withInit) {
      if (!spec) throw new Error('a sandbox without crucible-init cannot be started ahead of its program');
      // Without init nothing can carry files in, a command or artifacts out: only a one-file program runs.
      if (spec.files?.length || spec.command?.length || (spec.entrypoint ?? MAIN_FILE) !== MAIN_FILE) {
        throw new Error(
          `multi-file programs and commands need a runsc with --pass-fd (this is ${this.runscBinary.version ?? 'an old build'}; see scripts/install-runsc.sh)`,
        );
      }
      writeFileSync(codeFile, spec.code, { mode: 0o644 });
    }
    const config = ociSpec({
      rootfs,
      codeFile,
      codePath: CODE_PATH,
      pythonPath: ENVIRONMENT_PYTHON,
      workdir: SANDBOX_WORKDIR,
      env: sandboxEnvironment(),
      limits,
      uid: this.options.uid ?? 65534,
      gid: this.options.gid ?? 65534,
      seccomp: this.seccompPolicy(),
      init: withInit
        ? { hostPath: this.helpers.init, path: SANDBOX_INIT_PATH, statusFd: STATUS_FD, programFd: CODE_FD, aheadPython: aheadPython(rootfs) }
        : undefined,
    });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const launch = new Launch(
      {
        command: this.helpers.launcher,
        args: launcherArgs({ cgroupDirs: cgroup.joinDirs }, this.runsc, [
          '--root',
          this.stateDir,
          `--platform=${this.runscBinary.platform}`,
          '--network=none',
          // Enforce the spec's seccomp policy (the same one bubblewrap gets) inside gVisor's kernel.
          '--oci-seccomp',
          // The launcher already put runsc in the run's cgroup; runsc must not move it elsewhere.
          '--ignore-cgroups',
          'run',
          // The status channel and the program, for crucible-init inside (see oci-spec.ts).
          ...(withInit ? ['--pass-fd', `${STATUS_FD}:${STATUS_FD}`, '--pass-fd', `${CODE_FD}:${CODE_FD}`] : []),
          '--bundle',
          bundle,
          id,
        ]),
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
        codeFd: withInit,
      },
      this.launchers.start,
    );
    this.containers.set(launch, { id, bundle });
    return launch;
  }

  /** The launcher prints the sandbox's seccomp policy in OCI form; asked once per process. */
  private seccompPolicy(): object {
    this.seccomp ??= JSON.parse(execFileSync(this.helpers.launcher, ['--print-oci-seccomp'], { encoding: 'utf8' })) as object;
    return this.seccomp;
  }

  private async afterRun(launch: Launch): Promise<void> {
    const container = this.containers.get(launch);
    if (!container) return;
    // Usually runsc removed it already; asking runsc (a 24 MB Go binary) anyway cost CPU after every run.
    if (await containerLeftBehind(this.stateDir, container.id)) await deleteContainer(this.runsc, this.stateDir, container.id);
    rmSync(container.bundle, { recursive: true, force: true });
  }

  protected override async cleanupStaleExtra(): Promise<void> {
    await cleanupStaleStateDirs(this.runsc, join(this.stateDir, '..'));
  }

  protected override async closeExtra(): Promise<void> {
    await removeStateDir(this.runsc, this.stateDir);
  }
}
