/**
 * Picks where launcher processes come from: the spawner next to the launcher binary (one per
 * directory, started on first use and again after it died), or, if it cannot run, a plain
 * spawn from the server, which works the same but forks the server (logged once).
 */
import { dirname, join } from 'node:path';
import { missingExecutables } from '../native.js';
import { spawnDirectly } from './direct-spawn.js';
import type { LaunchCommand, LaunchEvents, LauncherProcess } from './launcher-process.js';
import { DEFAULT_SPAWN_TIMEOUT_MS, Spawner } from './spawner.js';

export const SPAWNER_BINARY = 'crucible-spawner';

let warn: (message: string) => void = (message) => console.warn(`[crucible sandbox] ${message}`);
const spawners = new Map<string, Spawner>();
/** Directories whose spawner does not work here, and why. */
const broken = new Map<string, string>();

let spawnTimeoutMs = DEFAULT_SPAWN_TIMEOUT_MS;

/** How long a spawner may take to fork a launcher before it counts as stuck (tests shorten it). */
export function setSpawnTimeout(ms: number): void {
  spawnTimeoutMs = ms;
}

/** Where the one-time fallback warning goes (e.g. the server's logger). */
export function setLauncherSourceLog(log: (message: string) => void): void {
  warn = log;
}

export function startLauncher(cmd: LaunchCommand, events: LaunchEvents): LauncherProcess {
  const spawner = spawnerFor(dirname(cmd.command));
  return spawner ? spawner.launch(cmd, events) : spawnDirectly(cmd, events);
}

function spawnerFor(dir: string): Spawner | null {
  if (broken.has(dir)) return null;
  const running = spawners.get(dir);
  if (running && !running.gone) return running;
  const binary = join(dir, SPAWNER_BINARY);
  try {
    if (missingExecutables([binary]).length) throw new Error(`${binary} is missing`);
    const spawner = Spawner.start(binary, (worked, why) => {
      if (spawners.get(dir) === spawner) spawners.delete(dir);
      // One that never came up will not do better next time.
      if (!worked) giveUp(dir, why);
    }, spawnTimeoutMs);
    spawners.set(dir, spawner);
    return spawner;
  } catch (err) {
    giveUp(dir, (err as Error).message);
    return null;
  }
}

function giveUp(dir: string, why: string): void {
  if (broken.has(dir)) return;
  broken.set(dir, why);
  warn(`sandbox spawner unavailable (${why}); launching sandboxes with a plain spawn from the server, which blocks its event loop for each run`);
}

/** Stops every spawner (tests; a server's spawners simply die with it). */
export function stopSpawners(): void {
  for (const s of spawners.values()) s.close();
  spawners.clear();
}
