/**
 * Which root filesystem a run's environment has on this host. Both backends ask per sandbox, so
 * an environment built (or rebuilt) while the server runs is used from the next sandbox on.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildCommand } from '../../domain/environments.js';
import type { Environment } from '../../domain/evaluation.js';
import { defaultEnvironmentsDir, environmentPaths } from './paths.js';

export type RootfsResolver = (environment: Environment) => string | null;

/** Python inside every environment. */
export const ENVIRONMENT_PYTHON = '/usr/bin/python3';

/** Ready environments under `dir` (their build record and Python exist). */
export function rootfsResolver(dir: string = defaultEnvironmentsDir()): RootfsResolver {
  return (environment) => {
    const paths = environmentPaths(dir, environment);
    return existsSync(paths.build) && existsSync(join(paths.rootfs, ENVIRONMENT_PYTHON)) ? paths.rootfs : null;
  };
}

/** Crucible's site hook, installed by scripts/build-environment.sh (see native/sandbox-init.c, --ahead). */
const PYTHON_AHEAD_HOOK = 'usr/lib/python3/dist-packages/zz_crucible_ahead.pth';

/**
 * The Python a sandbox on this rootfs may start ahead of its program (crucible-init --ahead), or
 * null for an environment built before the hook existed: there, a Python started ahead would run
 * main.py at once, before the program is written.
 */
export function aheadPython(rootfs: string): string | null {
  return existsSync(join(rootfs, PYTHON_AHEAD_HOOK)) ? ENVIRONMENT_PYTHON : null;
}

export function notBuiltHere(environment: Environment): string {
  return `the ${environment} environment is not built on this host (build it with: ${buildCommand(environment)})`;
}

/** The rootfs, or an error saying how to build it (the run then ends as a platform error). */
export function requireRootfs(resolve: RootfsResolver, environment: Environment): string {
  const rootfs = resolve(environment);
  if (rootfs === null) throw new Error(notBuiltHere(environment));
  return rootfs;
}
