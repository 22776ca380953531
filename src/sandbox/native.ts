/**
 * The native helpers built by native/build.sh, and the launcher's command line. Both backends
 * start through crucible-launch: it joins the run's cgroups, dies with the server, reaps every
 * descendant and (for bubblewrap) installs the seccomp filter and drops privileges.
 */
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STATUS_FD } from './run/launch-fds.js';

/** build/native of this checkout (src/sandbox or dist/sandbox are two levels below the root). */
export const DEFAULT_NATIVE_DIR = fileURLToPath(new URL('../../build/native/', import.meta.url));

export interface NativeHelpers {
  launcher: string;
  init: string;
  /** The seccomp policy as BPF, exported by the launcher at build time (see --seccomp-bpf). */
  seccompBpf: string;
}

export function nativeHelpers(dir = DEFAULT_NATIVE_DIR): NativeHelpers {
  const base = dir.replace(/\/$/, '');
  return { launcher: `${base}/crucible-launch`, init: `${base}/crucible-init`, seccompBpf: `${base}/seccomp.bpf` };
}

/** Names of required executables that are missing or not executable. */
export function missingExecutables(paths: readonly string[]): string[] {
  return paths.filter((p) => {
    try {
      accessSync(p, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

export interface LauncherOptions {
  cgroupDirs: readonly string[];
  /** Run the program as this uid/gid (bubblewrap); absent = stay root (runsc needs it). */
  dropTo?: { uid: number; gid: number };
  /** Export the seccomp filter to this fd for `bwrap --seccomp`. */
  seccompFd?: number;
  /**
   * The filter exported at build time, placed at seccompFd instead of compiling the policy again
   * on every launch (the same bytes each time, ~1 ms of CPU).
   */
  seccompBpf?: string;
  /** Open a file read-only at an fd for the program (e.g. `bwrap --file FD DEST`). */
  openFd?: { fd: number; path: string };
  /** tmpfs mounts (bytes and inodes capped) the launcher makes in a private mount namespace. */
  scratch?: ReadonlyArray<{ dir: string; sizeBytes: number; inodes: number }>;
}

/** The launcher's arguments; `--parent-pid` is added by whatever forks it (see LaunchCommand). */
export function launcherArgs(opts: LauncherOptions, program: string, programArgs: readonly string[]): string[] {
  const args = ['--status-fd', String(STATUS_FD)];
  for (const dir of opts.cgroupDirs) args.push('--cgroup', dir);
  if (opts.dropTo) args.push('--uid', String(opts.dropTo.uid), '--gid', String(opts.dropTo.gid));
  if (opts.seccompFd !== undefined) args.push('--seccomp-fd', String(opts.seccompFd));
  if (opts.seccompFd !== undefined && opts.seccompBpf) args.push('--seccomp-bpf', opts.seccompBpf);
  if (opts.openFd) args.push('--open-fd', String(opts.openFd.fd), opts.openFd.path);
  for (const m of opts.scratch ?? []) args.push('--scratch', m.dir, String(m.sizeBytes), String(m.inodes));
  args.push('--', program, ...programArgs);
  return args;
}
