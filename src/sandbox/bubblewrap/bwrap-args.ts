/**
 * The bubblewrap command line: every namespace unshared, the environment's root filesystem as
 * the whole root (read-only; the same tree gVisor runs on, see scripts/build-environment.sh), a
 * size-bounded private /tmp, fresh /proc and a minimal /dev. Nothing of the host's own files is
 * visible: not its /etc, /usr, /home, /root, /var, the repository or any data directory.
 */
import { SANDBOX_WORKDIR } from '../../domain/program-files.js';
import { CODE_FD, STATUS_FD } from '../run/launch-fds.js';
import { SANDBOX_INNER_ID } from './host-identities.js';

// Named for what it is, so a program listing / does not mistake it for the server's .crucible data dir.
export const SANDBOX_INIT_PATH = '/sandbox-init';

/**
 * Host mount points of the scratch tmpfs mounts: each launcher mounts its sandbox's own tmpfs
 * over them in a private mount namespace (the host only ever sees the empty directories). Not under /run/crucible, which is root-only
 * (0700) and which bwrap, already unprivileged, could not traverse.
 */
export const SCRATCH_MOUNTS = { tmp: '/run/crucible-scratch/tmp', shm: '/run/crucible-scratch/shm', work: '/run/crucible-scratch/work' } as const;

export interface BwrapOptions {
  /** fd on which the launcher opened crucible-init, copied into the sandbox as its PID 1. */
  initFd: number;
  /** The environment's root filesystem on the host; it has the mount points used below. */
  rootfs: string;
  seccompFd: number;
  /** The Python crucible-init starts ahead of the program (its --ahead), if any. */
  aheadPython?: string | null;
}

export function bwrapArgs(o: BwrapOptions): string[] {
  return [
    // New user namespace (unprivileged: the launcher already dropped to the sandbox's own host
    // uid), pid, net (only `lo`), ipc, uts, cgroup; no further user namespaces inside. Whatever
    // the host uid, the program is 65534 inside.
    '--unshare-user',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup',
    '--disable-userns',
    '--uid',
    String(SANDBOX_INNER_ID),
    '--gid',
    String(SANDBOX_INNER_ID),
    '--hostname',
    'sandbox',
    '--die-with-parent',
    '--new-session', // no controlling terminal to inject keystrokes into (TIOCSTI)
    '--as-pid-1', // crucible-init is PID 1: reaps orphans, reports the program's raw wait status
    // The environment's tree, read-only, as the root: its /usr, its /etc (with /etc/passwd naming
    // 65534, its own ld.so.cache and resolver-free network files). Bound before anything mounted
    // on top of it below.
    '--ro-bind',
    o.rootfs,
    '/',
    '--proc',
    '/proc',
    // What a program has no reason to see or change: the host kernel's command line, the host's
    // boot id (a machine fingerprint), and the sysctls of its own namespaces (IPC limits, mqueue:
    // writable by the sandbox's user ns owner, i.e. the program). bwrap binds from the host's
    // tree; /proc/sys shows the reader's own namespaces whichever procfs it comes from.
    '--ro-bind',
    '/proc/sys',
    '/proc/sys',
    '--ro-bind',
    '/dev/null',
    '/proc/sys/kernel/random/boot_id',
    '--ro-bind',
    '/dev/null',
    '/proc/cmdline',
    '--dev',
    '/dev',
    // The scratch tmpfs mounts, made by the launcher with a byte *and* inode cap (see
    // SCRATCH_MOUNTS). Shared memory (multiprocessing's semaphores and queues) gets its own: the
    // one --dev provides would let a program fill memory through /dev/shm past the scratch limit.
    '--bind',
    SCRATCH_MOUNTS.tmp,
    '/tmp',
    '--bind',
    SCRATCH_MOUNTS.shm,
    '/dev/shm',
    // The working directory: a third scratch tmpfs (scratch_mb, inode-capped) where
    // crucible-init writes the program's files when they arrive (so a sandbox can be set up
    // before its program is known), and where the program writes /sandbox/out.
    '--bind',
    SCRATCH_MOUNTS.work,
    SANDBOX_WORKDIR,
    // The root is read-only, so crucible-init cannot be written into it: bwrap copies it from the
    // fd into a file of its own and binds that, read-only, onto the rootfs's mount point.
    '--perms',
    '0555',
    '--ro-bind-data',
    String(o.initFd),
    SANDBOX_INIT_PATH,
    '--remount-ro',
    '/',
    '--chdir',
    '/tmp',
    '--seccomp',
    String(o.seccompFd),
    '--',
    SANDBOX_INIT_PATH,
    ...(o.aheadPython ? ['--ahead', o.aheadPython] : []),
    String(STATUS_FD),
    String(CODE_FD),
    SANDBOX_WORKDIR,
  ];
}
