/**
 * The environment catalogue over the filesystem: manifests from the repository, build state from
 * the environments directory of this host.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  EnvironmentBuild,
  EnvironmentLock,
  EnvironmentManifest,
  manifestProblems,
  type EnvironmentState,
  type EnvironmentStatus,
} from '../../domain/environments.js';
import { ENVIRONMENTS, type Environment } from '../../domain/evaluation.js';
import type { EnvironmentCatalogue } from '../../ports/environments.js';
import { defaultEnvironmentsDir, environmentPaths } from './paths.js';

/** Reads and checks every manifest; a broken one is a deployment error, raised at start-up. */
export function loadManifests(): Map<Environment, EnvironmentManifest> {
  const manifests = new Map<Environment, EnvironmentManifest>();
  for (const name of ENVIRONMENTS) {
    const path = environmentPaths('', name).manifest;
    const manifest = EnvironmentManifest.parse(JSON.parse(readFileSync(path, 'utf8')));
    if (manifest.name !== name) throw new Error(`${path} declares environment ${manifest.name}, expected ${name}`);
    const problems = manifestProblems(manifest);
    if (problems.length > 0) throw new Error(`${path}: ${problems.join('; ')}`);
    manifests.set(name, manifest);
  }
  return manifests;
}

async function readJson<T>(path: string, schema: { parse(value: unknown): T }): Promise<T | null> {
  try {
    return schema.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const BuildStatusFile = {
  parse(value: unknown): { status: string; pid: number; error?: string } {
    const v = value as { status?: unknown; pid?: unknown; error?: unknown };
    if (typeof v?.status !== 'string' || typeof v.pid !== 'number') throw new Error('not a build status');
    return { status: v.status, pid: v.pid, error: typeof v.error === 'string' ? v.error : undefined };
  },
};

export class FileEnvironmentCatalogue implements EnvironmentCatalogue {
  private readonly all = loadManifests();

  constructor(readonly dir: string = defaultEnvironmentsDir()) {}

  manifests(): EnvironmentManifest[] {
    return [...this.all.values()];
  }

  manifest(name: Environment): EnvironmentManifest {
    return this.all.get(name)!;
  }

  rootfs(name: Environment): string | null {
    const paths = environmentPaths(this.dir, name);
    return existsSync(paths.build) && existsSync(paths.rootfs) ? paths.rootfs : null;
  }

  async state(name: Environment): Promise<EnvironmentState> {
    const paths = environmentPaths(this.dir, name);
    const build = await readJson(paths.build, EnvironmentBuild);
    // The installed lock when built here, else the repository's (what a build would install).
    const lock = (build && (await readJson(paths.lock, EnvironmentLock))) ?? (await readJson(paths.repositoryLock, EnvironmentLock));
    const progress = await readJson(paths.status, BuildStatusFile);
    let status: EnvironmentStatus = build ? 'ready' : 'not_built';
    let error: string | null = null;
    // A rebuild of a ready environment leaves it ready (and in use) until the new one replaces it.
    if (!build && progress) {
      const running = progress.status === 'building' && processAlive(progress.pid);
      status = running ? 'building' : 'failed';
      if (!running) error = progress.error ?? `the build was interrupted; run ${`crucible env build ${name}`} to resume it`;
    }
    return { manifest: this.manifest(name), status, build, lock, error };
  }
}
