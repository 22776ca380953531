/**
 * Where environments are declared (the repository's environments/ directory) and built (a
 * directory per host, default /var/lib/crucible/environments, or CRUCIBLE_ENVIRONMENTS_DIR).
 * Layout of a built environment: <dir>/<name> (a symlink swapped atomically to the ready build)
 * holds rootfs/, lock.json and environment.json; <dir>/.build/<name>/status.json tells a build
 * in progress or failed (see scripts/build-environment.sh).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** src/sandbox/environments or dist/sandbox/environments are three levels below the root. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MANIFESTS_DIR = join(REPOSITORY_ROOT, 'environments');
export const BUILD_SCRIPT = join(REPOSITORY_ROOT, 'scripts/build-environment.sh');

export function defaultEnvironmentsDir(): string {
  return process.env.CRUCIBLE_ENVIRONMENTS_DIR || '/var/lib/crucible/environments';
}

export function environmentPaths(dir: string, name: string) {
  return {
    ready: join(dir, name),
    rootfs: join(dir, name, 'rootfs'),
    lock: join(dir, name, 'lock.json'),
    build: join(dir, name, 'environment.json'),
    status: join(dir, '.build', name, 'status.json'),
    lastLog: join(dir, '.build', `${name}.last-build.log`),
    manifest: join(MANIFESTS_DIR, `${name}.json`),
    repositoryLock: join(MANIFESTS_DIR, `${name}.lock.json`),
  };
}
