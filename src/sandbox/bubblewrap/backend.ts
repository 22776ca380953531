/**
 * The default backend: bubblewrap namespaces + a libseccomp filter + cgroup limits, started
 * through the native launcher as an unprivileged user. Sandboxes are set up ahead of time and
 * wait for their program, so a run costs little more than starting Python itself.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '../../domain/limits.js';
import type { SandboxCgroup } from '../cgroups/driver.js';
import { launcherArgs, nativeHelpers, type NativeHelpers } from '../native.js';
import { sandboxEnvironment } from '../program-environment.js';
import { CgroupSandboxBackend, type CgroupBackendOptions } from '../run/cgroup-backend.js';
import { Launch } from '../run/launch.js';
import type { SandboxStarter } from '../run/runner.js';
import type { SandboxSpec } from '../../ports/sandbox.js';
import { scratchInodes } from '../scratch.js';
import { bwrapArgs, SCRATCH_MOUNTS } from './bwrap-args.js';
import type { Environment } from '../../domain/evaluation.js';
import { aheadPython, ENVIRONMENT_PYTHON, requireRootfs, rootfsResolver, type RootfsResolver } from '../environments/rootfs.js';
import { HostIdentities, type HostIdRange } from './host-identities.js';

export interface BubblewrapOptions extends CgroupBackendOptions {
  bwrapPath?: string;
  /** Root filesystem of each environment (default: the environments built on this host). */
  rootfsOf?: RootfsResolver;
  /** Directory holding crucible-launch and crucible-init. */
  nativeDir?: string;
  /**
   * Host uids/gids the sandboxes run as, one per sandbox (see host-identities.ts); inside, the
   * program is always 65534.
   */
  hostIds?: HostIdRange;
  /** Sandboxes kept set up and waiting (0 = start every sandbox on demand). */
  warmSandboxes?: number;
}

/** fds the launcher puts the exported seccomp filter and crucible-init on (after the launch pipes 0-4). */
const SECCOMP_FD = 5;
const INIT_FD = 6;
/** crucible-launch, the outer bwrap and crucible-init share the cgroup with the program. */
const OVERHEAD_TASKS = 3;

export class BubblewrapBackend extends CgroupSandboxBackend {
  readonly name = 'bubblewrap' as const;
  private readonly bwrap: string;
  private readonly rootfsOf: RootfsResolver;
  private readonly helpers: NativeHelpers;
  private readonly identities: HostIdentities;

  constructor(private readonly options: BubblewrapOptions) {
    super(options);
    this.bwrap = options.bwrapPath ?? '/usr/bin/bwrap';
    this.rootfsOf = options.rootfsOf ?? rootfsResolver();
    this.helpers = nativeHelpers(options.nativeDir);
    this.identities = new HostIdentities(options.hostIds);
  }

  protected starter(): SandboxStarter {
    return {
      prefix: 'bwrap',
      // The environment's root and the scratch tmpfs's size are fixed when the sandbox is set up;
      // everything else is applied at run time. Warm sandboxes are kept per environment.
      keyOf: (spec) => `${spec.environment}/${spec.limits.scratch_mb}`,
      groupOf: (key) => key.slice(0, key.lastIndexOf('/')),
      start: (key, cgroup) => {
        const cut = key.lastIndexOf('/');
        return this.start(key.slice(0, cut) as Environment, Number(key.slice(cut + 1)), cgroup);
      },
      warmSandboxes: this.options.warmSandboxes ?? 2,
      overhead: { tasks: OVERHEAD_TASKS, memoryBytes: 0 },
      supervise: { reportsStatus: true, sharesHostClock: true, startupGraceMs: 0, python: ENVIRONMENT_PYTHON },
    };
  }

  protected override defaultSpec(): SandboxSpec {
    return { code: '', environment: 'python', limits: DEFAULT_LIMITS, runId: 'default' };
  }

  protected requirements() {
    // The default environment must be built here; others are checked when a run asks for them.
    const rootfs = this.rootfsOf('python');
    const problems = rootfs ? [] : ['the python environment is not built on this host (crucible env build python, or npm start)'];
    if (!existsSync(this.helpers.seccompBpf)) problems.push(`${this.helpers.seccompBpf} is missing (bash native/build.sh exports it)`);
    return { executables: [this.bwrap, ...(rootfs ? [join(rootfs, ENVIRONMENT_PYTHON)] : []), this.helpers.launcher, this.helpers.init], problems };
  }

  private start(environment: Environment, scratchMb: number, cgroup: SandboxCgroup): Launch {
    const rootfs = requireRootfs(this.rootfsOf, environment);
    // The identity is the sandbox's until every process of it is gone (the launcher reaps them all).
    const id = this.identities.acquire();
    const dropTo = { uid: id, gid: id };
    let launch: Launch;
    try {
      launch = this.launch(rootfs, scratchMb, cgroup, dropTo);
    } catch (err) {
      this.identities.release(id);
      throw err;
    }
    void launch.done.then(() => this.identities.release(id));
    return launch;
  }

  private launch(rootfs: string, scratchMb: number, cgroup: SandboxCgroup, dropTo: { uid: number; gid: number }): Launch {
    return new Launch(
      {
        command: this.helpers.launcher,
        args: launcherArgs(
          {
            cgroupDirs: cgroup.joinDirs,
            dropTo,
            seccompFd: SECCOMP_FD,
            seccompBpf: this.helpers.seccompBpf,
            openFd: { fd: INIT_FD, path: this.helpers.init },
            scratch: scratchMounts(scratchMb),
          },
          this.bwrap,
          bwrapArgs({
            initFd: INIT_FD,
            rootfs,
            seccompFd: SECCOMP_FD,
            aheadPython: aheadPython(rootfs),
          }),
        ),
        env: sandboxEnvironment(),
        codeFd: true,
      },
      this.launchers.start,
    );
  }
}

/** /tmp, /dev/shm and the working directory: scratch_mb each, and as many inodes as pages (scratch.ts). */
function scratchMounts(scratchMb: number) {
  const sizeBytes = scratchMb * 1024 * 1024;
  const inodes = scratchInodes(sizeBytes);
  return [SCRATCH_MOUNTS.tmp, SCRATCH_MOUNTS.shm, SCRATCH_MOUNTS.work].map((dir) => ({ dir, sizeBytes, inodes }));
}
