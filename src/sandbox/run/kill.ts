/**
 * Ending a sandbox: SIGKILL every process in its cgroup except the launcher, which, as child
 * subreaper, reaps them all and then exits by itself (killing the launcher first would hand the
 * zombies to the machine's init, which may reap them late and keep the cgroup busy). If the
 * launcher is somehow still there after a grace period, it is killed too.
 */
import type { SandboxCgroup } from '../cgroups/driver.js';
import type { Launch } from './launch.js';

const LAUNCHER_GRACE_MS = 2000;

export async function killSandbox(launch: Launch, cgroup: SandboxCgroup): Promise<void> {
  await cgroup.killAll(launch.pid);
  await launcherGone(launch);
}

/** Waits for the launcher to exit by itself, killing it if it is still there after the grace period. */
export async function launcherGone(launch: Launch): Promise<void> {
  if (!launch.alive) return;
  const fallback = setTimeout(() => launch.kill(), LAUNCHER_GRACE_MS);
  await launch.done;
  clearTimeout(fallback);
}
