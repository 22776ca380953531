/**
 * Where launcher processes come from: the spawner next to the launcher binary (one per
 * directory, started on first use and again after it died), or, if it cannot run, a plain
 * spawn from the server, which works the same but forks the server (logged once).
 *
 * Each backend owns one source (its spawners live and die with the backend); what a source may
 * be told (the spawn timeout, where its warning goes) is given when it is made, not set on the
 * module, so two backends or two tests never change each other's settings.
 */
import { dirname, join } from 'node:path';
import { missingExecutables } from '../native.js';
import { spawnDirectly } from './direct-spawn.js';
import type { LaunchCommand, LaunchEvents, LauncherProcess, StartLauncher } from './launcher-process.js';
import { DEFAULT_SPAWN_TIMEOUT_MS, Spawner } from './spawner.js';

export const SPAWNER_BINARY = 'crucible-spawner';

export interface LauncherSourceOptions {
  /** How long a spawner may take to fork a launcher before it counts as stuck (tests shorten it). */
  spawnTimeoutMs?: number;
  /** Where the one-time fallback warning goes (e.g. the server's logger); default console.warn. */
  log?: (message: string) => void;
}

export class LauncherSource {
  private readonly spawners = new Map<string, Spawner>();
  /** Directories whose spawner does not work here, and why. */
  private readonly broken = new Map<string, string>();
  private readonly spawnTimeoutMs: number;
  private readonly log: (message: string) => void;

  constructor(options: LauncherSourceOptions = {}) {
    this.spawnTimeoutMs = options.spawnTimeoutMs ?? DEFAULT_SPAWN_TIMEOUT_MS;
    this.log = options.log ?? ((message) => console.warn(`[crucible sandbox] ${message}`));
  }

  /** Starts a launcher; bound, so it can be handed around as a StartLauncher. */
  readonly start: StartLauncher = (cmd: LaunchCommand, events: LaunchEvents): LauncherProcess => {
    const spawner = this.spawnerFor(dirname(cmd.command));
    return spawner ? spawner.launch(cmd, events) : spawnDirectly(cmd, events);
  };

  /** Stops every spawner of this source (runs still in flight on them end as platform errors). */
  close(): void {
    for (const s of this.spawners.values()) s.close();
    this.spawners.clear();
  }

  private spawnerFor(dir: string): Spawner | null {
    if (this.broken.has(dir)) return null;
    const running = this.spawners.get(dir);
    if (running && !running.gone) return running;
    const binary = join(dir, SPAWNER_BINARY);
    try {
      if (missingExecutables([binary]).length) throw new Error(`${binary} is missing`);
      const spawner = Spawner.start(
        binary,
        (worked, why) => {
          if (this.spawners.get(dir) === spawner) this.spawners.delete(dir);
          // One that never came up will not do better next time.
          if (!worked) this.giveUp(dir, why);
        },
        this.spawnTimeoutMs,
      );
      this.spawners.set(dir, spawner);
      return spawner;
    } catch (err) {
      this.giveUp(dir, (err as Error).message);
      return null;
    }
  }

  private giveUp(dir: string, why: string): void {
    if (this.broken.has(dir)) return;
    this.broken.set(dir, why);
    this.log(`sandbox spawner unavailable (${why}); launching sandboxes with a plain spawn from the server, which blocks its event loop for each run`);
  }
}
