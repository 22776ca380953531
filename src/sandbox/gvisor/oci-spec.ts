/**
 * The OCI runtime spec (config.json) of one gVisor run: the shared read-only rootfs, the
 * program's file bound read-only, a size-bounded /tmp, an unprivileged user without
 * capabilities, and the run's limits for gVisor's own view of its resources.
 */
import type { BootLimits } from './sandbox-key.js';

export interface OciSpecInput {
  rootfs: string;
  /**
   * Without crucible-init only: host path of the program's code (a per-run file in a root-only
   * directory), bound read-only at codePath and run by pythonPath.
   */
  codeFile: string;
  codePath: string;
  pythonPath: string;
  /** The working directory (a scratch tmpfs; with init, the program's files arrive there). */
  workdir: string;
  env: Record<string, string>;
  limits: BootLimits;
  uid: number;
  gid: number;
  /** OCI `linux.seccomp` object (enforced by `runsc --oci-seccomp`). */
  seccomp: object;
  /**
   * crucible-init as the container's PID 1 (host binary, bound read-only at `path`), reporting
   * on `statusFd` and reading the program from `programFd` (both handed in with `runsc run
   * --pass-fd`); absent = Python is PID 1 itself.
   */
  init?: { hostPath: string; path: string; statusFd: number; programFd: number; aheadPython?: string | null };
}

const CPU_PERIOD_US = 100_000;

export function ociSpec(o: OciSpecInput): object {
  /** A writable tmpfs of scratch_mb, for everyone (sticky). */
  const scratch = (destination: string) => ({
    destination,
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'nodev', 'mode=1777', `size=${o.limits.scratch_mb * 1024 * 1024}`],
  });
  const processRoom = o.limits.max_processes + (o.init ? 1 : 0);
  const noCaps = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  // With crucible-init, the container starts as gVisor's root holding only what init needs to
  // become the program's user (see sandbox-init.c --user); the program itself has no capability.
  const initCaps = ['CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP'];
  const caps = o.init ? { bounding: initCaps, effective: initCaps, inheritable: [], permitted: initCaps, ambient: [] } : noCaps;
  const user = o.init ? { uid: 0, gid: 0, additionalGids: [] } : { uid: o.uid, gid: o.gid, additionalGids: [] };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user,
      args: o.init
        ? [
            o.init.path,
            '--user',
            `${o.uid}:${o.gid}`,
            ...(o.init.aheadPython ? ['--ahead', o.init.aheadPython] : []),
            String(o.init.statusFd),
            String(o.init.programFd),
            o.workdir,
          ]
        : [o.pythonPath, o.codePath],
      env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`),
      cwd: o.init ? o.workdir : '/tmp',
      capabilities: caps,
      noNewPrivileges: true,
      rlimits: [
        { type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 },
        { type: 'RLIMIT_CORE', hard: 0, soft: 0 },
        // gVisor counts the sandbox's own tasks against this, like Linux counts a user's, with
        // crucible-init among them (it forks the program); the pids limit below still holds the
        // program to max_processes.
        { type: 'RLIMIT_NPROC', hard: processRoom, soft: processRoom },
      ],
    },
    root: { path: o.rootfs, readonly: true },
    hostname: 'sandbox',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
      scratch('/tmp'),
      // Without its own mount, gVisor's /dev/shm is root's and 0755: multiprocessing (which keeps
      // its semaphores there) failed with EACCES. Bounded like /tmp, as under bubblewrap.
      scratch('/dev/shm'),
      // With init: the working directory, where init (as the program's user) writes the files.
      ...(o.init
        ? [scratch(o.workdir), { destination: o.init.path, type: 'bind', source: o.init.hostPath, options: ['rbind', 'ro', 'nosuid', 'nodev'] }]
        : [{ destination: o.codePath, type: 'bind', source: o.codeFile, options: ['rbind', 'ro', 'nosuid', 'nodev'] }]),
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      seccomp: o.seccomp,
      resources: {
        memory: { limit: o.limits.memory_mb * 1024 * 1024 },
        // crucible-init (PID 1) is not the program's: without room for it, max_processes 1 could
        // not even fork the program (bubblewrap counts init in its host allowance likewise).
        pids: { limit: processRoom },
        cpu: { quota: Math.round(o.limits.cpus * CPU_PERIOD_US), period: CPU_PERIOD_US },
      },
    },
  };
}
