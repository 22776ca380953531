/**
 * The bubblewrap command line: every namespace unshared, a root made only of what
 * /usr/bin/python3 needs (read-only), a size-bounded private /tmp, fresh /proc and a minimal
 * /dev. Nothing else of the host is visible: not /etc as a whole (nor /usr/etc or /usr/local,
 * where machine-specific configuration lives), not /home, /root, /var, the repository or any
 * data directory.
 */
import { SANDBOX_WORKDIR } from '../../domain/program-files.js';
import { CODE_FD, STATUS_FD } from '../run/launch-fds.js';
import { SANDBOX_INNER_ID } from './host-identities.js';

// Named for what it is, so a program listing / does not mistake it for the server's .crucible data dir.
export const SANDBOX_INIT_PATH = '/sandbox-init';

/**
 * Directories of /usr shown empty when the host has them. /usr/etc is not part of Debian: it is
 * where tools installed with prefix /usr keep their machine's configuration (e.g. npm's global
 * npmrc, with its registry and tokens), hidden for the same reason as /etc and /usr/local.
 */
export const HIDDEN_USR_DIRS = ['/usr/etc'] as const;

/**
 * Host mount points of the scratch tmpfs mounts: each launcher mounts its sandbox's own tmpfs
 * over them in a private mount namespace (the host only ever sees the empty directories). Not under /run/crucible, which is root-only
 * (0700) and which bwrap, already unprivileged, could not traverse.
 */
export const SCRATCH_MOUNTS = { tmp: '/run/crucible-scratch/tmp', shm: '/run/crucible-scratch/shm', work: '/run/crucible-scratch/work' } as const;

export interface BwrapOptions {
  /** fd on which the launcher opened crucible-init, copied into the sandbox as its PID 1. */
  initFd: number;
  seccompFd: number;
  /** Existing directories under /usr to cover with an empty read-only tmpfs (a missing one cannot be a mount point). */
  hiddenDirs: readonly string[];
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
    '--ro-bind',
    '/usr',
    '/usr',
    // /usr/local holds machine-specific tools and configuration (e.g. an npmrc): hide it, except
    // the system Python's locally installed packages.
    '--tmpfs',
    '/usr/local',
    '--ro-bind-try',
    '/usr/local/lib/python3.11',
    '/usr/local/lib/python3.11',
    '--remount-ro',
    '/usr/local',
    // Other configuration directories under /usr (see HIDDEN_USR_DIRS) become empty.
    ...o.hiddenDirs.flatMap((dir) => ['--tmpfs', dir, '--remount-ro', dir]),
    '--symlink',
    'usr/bin',
    '/bin',
    '--symlink',
    'usr/sbin',
    '/sbin',
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
    '--ro-bind',
    '/etc/ld.so.cache',
    '/etc/ld.so.cache',
    '--ro-bind-try',
    '/etc/python3.11',
    '/etc/python3.11',
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
    '--perms',
    '0555',
    '--file',
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
    String(STATUS_FD),
    String(CODE_FD),
    SANDBOX_WORKDIR,
  ];
}
