/**
 * The fallback source of launcher processes: a plain child_process.spawn from the server. It
 * forks the whole server (costly at its size, see spawner.ts), so it is used only when the
 * spawner cannot run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { argsWithParent, type LaunchCommand, type LaunchEvents, type LauncherProcess } from './launcher-process.js';

export function spawnDirectly(cmd: LaunchCommand, events: LaunchEvents): LauncherProcess {
  let child: ChildProcess;
  try {
    child = spawn(cmd.command, argsWithParent(cmd, process.pid), {
      env: cmd.env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', cmd.codeFd ? 'pipe' : 'ignore'],
      cwd: '/',
    });
  } catch (err) {
    events.failed((err as Error).message);
    return { kill: () => undefined };
  }
  child.on('error', (err) => events.failed(err.message));
  // Without a pid the spawn failed; 'error' follows.
  if (child.pid !== undefined) {
    events.spawned(child.pid);
    const s = child.stdio;
    events.attached({
      stdin: s[0] as Writable,
      stdout: s[1] as Readable,
      stderr: s[2] as Readable,
      status: s[3] as Readable,
      code: (s[4] as Writable | null) ?? null,
    });
    child.on('exit', (code, signal) => events.exited({ code, signal }));
  }
  return { kill: () => void child.kill('SIGKILL') };
}
