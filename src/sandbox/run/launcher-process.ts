/**
 * What a Launch needs from whatever started its launcher process: the pid, the five streams,
 * the exit, and a way to kill it. Two sources provide it (the spawner, and a plain spawn as
 * fallback); everything downstream of a Launch is the same for both.
 */
import type { Readable, Writable } from 'node:stream';

export interface LaunchCommand {
  command: string;
  /**
   * The launcher's arguments after `--parent-pid PID`, which the source puts first: the
   * launcher must die with whichever process forks it (the server, or the spawner).
   */
  args: string[];
  /** The launcher's complete environment (nothing of the server's is inherited). */
  env: Record<string, string>;
  /** Whether the sandbox reads the program's code from CODE_FD. */
  codeFd: boolean;
}

export interface LaunchExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The launcher's fds 0-4: the program's stdio, the status channel, and the program's code. */
export interface LaunchStreams {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  status: Readable;
  code: Writable | null;
}

/** What a source reports, in this order (failed may come at any point, and ends the launch). */
export interface LaunchEvents {
  spawned(pid: number): void;
  attached(streams: LaunchStreams): void;
  exited(exit: LaunchExit): void;
  failed(message: string): void;
}

export interface LauncherProcess {
  /** SIGKILLs the launcher if it is still running (never a reused pid). */
  kill(): void;
}

export type StartLauncher = (cmd: LaunchCommand, events: LaunchEvents) => LauncherProcess;

export function argsWithParent(cmd: LaunchCommand, parentPid: number): string[] {
  return ['--parent-pid', String(parentPid), ...cmd.args];
}
