/**
 * runsc keeps container state in its --root directory; a killed `runsc run` leaves its container
 * registered there (and possibly its sandbox processes). Every server uses its own state
 * directory, named like its cgroups after the owning process, so that clean-up after a crash
 * touches only containers of dead servers.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isInstanceOwnerAlive } from '../cgroups/ownership.js';

const exec = promisify(execFile);

/** Force-deletes one container (kills what is left of it) from a state directory. */
export async function deleteContainer(runsc: string, stateDir: string, id: string): Promise<void> {
  await exec(runsc, ['--root', stateDir, 'delete', '-force', id], { timeout: 10_000 }).catch(() => undefined);
}

/**
 * Whether runsc still has anything of a container in its state directory. A `runsc run` that
 * ended by itself removed its container already; only a killed one leaves it registered. (Both
 * layouts: `<id>_sandbox:<id>.state` and its lock and socket, or an older build's `<id>/`.)
 */
export async function containerLeftBehind(stateDir: string, id: string): Promise<boolean> {
  try {
    return (await readdir(stateDir)).some((entry) => entry === id || entry.startsWith(`${id}_`) || entry === `runsc-${id}.sock`);
  } catch {
    return false; // no state directory: nothing registered
  }
}

async function listContainers(runsc: string, stateDir: string): Promise<string[]> {
  try {
    const { stdout } = await exec(runsc, ['--root', stateDir, 'list', '-quiet'], { timeout: 10_000 });
    return stdout.split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Deletes every container in a state directory, then the directory. */
export async function removeStateDir(runsc: string, stateDir: string): Promise<void> {
  for (const id of await listContainers(runsc, stateDir)) await deleteContainer(runsc, stateDir, id);
  await rm(stateDir, { recursive: true, force: true });
}

/** Removes the state directories (and containers) of servers that are no longer running. */
export async function cleanupStaleStateDirs(runsc: string, stateRoot: string): Promise<void> {
  let entries: string[];
  try {
    entries = readdirSync(stateRoot);
  } catch {
    return;
  }
  for (const instance of entries) {
    if (!isInstanceOwnerAlive(instance)) await removeStateDir(runsc, join(stateRoot, instance));
  }
}
