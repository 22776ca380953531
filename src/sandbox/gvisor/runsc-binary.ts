/**
 * Which runsc the gVisor backend uses, and what that build can do. scripts/install-runsc.sh puts
 * Debian 13's build (0.0~20240729, static) at PROJECT_RUNSC; Debian 12's package (0.0~20221219)
 * is the fallback. The two differ in what matters here:
 * - platform: the newer build has systrap (its default), ~30x cheaper per system call than
 *   ptrace, the only usable platform of the older one here (kvm hangs on these VMs);
 * - `run --pass-fd`: only the newer build can hand the status channel to crucible-init inside
 *   the sandbox, which is how a program's exit code ≥ 128 is told apart from a signal.
 * The build is identified by its version date, asked once per backend.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export const PROJECT_RUNSC = '/usr/local/lib/crucible/runsc';
export const SYSTEM_RUNSC = '/usr/bin/runsc';

export interface RunscBinary {
  path: string;
  platform: 'systrap' | 'ptrace';
  /** Supports `runsc run --pass-fd M:N`. */
  passFd: boolean;
  /** e.g. "0.0~20240729.0"; null when it could not be asked. */
  version: string | null;
}

/** The first build that has both systrap and --pass-fd (both arrived during 2023). */
const FIRST_MODERN_BUILD = 20_231_001;

export function chooseRunsc(explicitPath?: string): RunscBinary {
  const path = explicitPath ?? (isExecutable(PROJECT_RUNSC) ? PROJECT_RUNSC : SYSTEM_RUNSC);
  const version = versionOf(path);
  const date = Number(/~(\d{8})/.exec(version ?? '')?.[1] ?? 0);
  const modern = date >= FIRST_MODERN_BUILD;
  return { path, platform: modern ? 'systrap' : 'ptrace', passFd: modern, version };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function versionOf(path: string): string | null {
  try {
    const out = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /runsc version (\S+)/.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}
