/**
 * Building environments for real (scripts/build-environment.sh): what a build records, that a
 * second build is a no-op, and that a failed build is visible as failed and never ready.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EnvironmentBuild, EnvironmentLock } from '../../src/domain/environments.js';
import { FileEnvironmentCatalogue } from '../../src/sandbox/environments/catalogue.js';
import { BUILD_SCRIPT, defaultEnvironmentsDir, environmentPaths } from '../../src/sandbox/environments/paths.js';
import { tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const paths = environmentPaths(defaultEnvironmentsDir(), 'python');
const skipUnlessBuilt = (ctx: { skip: (reason: string) => void }) => {
  if (!existsSync(paths.build)) ctx.skip('the python environment is not built here (bash scripts/setup.sh)');
};

describe('environment builds', () => {
  it('a build records its lock, size, digest and Python; the tree names 65534 and carries no host facts', async (ctx) => {
    skipUnlessBuilt(ctx);
    const build = EnvironmentBuild.parse(JSON.parse(readFileSync(paths.build, 'utf8')));
    expect(build.python_version).toMatch(/^3\.11\.\d+$/);
    expect(build.size_bytes).toBeGreaterThan(50_000_000);
    expect(build.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const lock = EnvironmentLock.parse(JSON.parse(readFileSync(paths.lock, 'utf8')));
    const python3 = lock.packages.find((p) => p.name === 'python3');
    expect(python3?.source).toBe('python3-defaults');
    expect(lock.packages.find((p) => p.name === 'dpkg')).toMatchObject({ priority: 'required', base: true });
    expect(python3?.base).toBe(false);
    // The installed set is exactly the repository's lock (a build from a lock pins every version).
    const repository = EnvironmentLock.parse(JSON.parse(readFileSync(paths.repositoryLock, 'utf8')));
    expect(lock.packages.map((p) => `${p.name}=${p.version}`)).toEqual(repository.packages.map((p) => `${p.name}=${p.version}`));
    expect(readFileSync(join(paths.rootfs, 'etc/passwd'), 'utf8')).toContain('nobody:x:65534:65534:');
    expect(readFileSync(join(paths.rootfs, 'etc/group'), 'utf8')).toMatch(/^nogroup:x:65534:/m);
    expect(readFileSync(join(paths.rootfs, 'etc/apt/sources.list'), 'utf8')).toBe('deb http://deb.debian.org/debian bookworm main\n');
    expect(readFileSync(join(paths.rootfs, 'etc/resolv.conf'), 'utf8')).toBe('');
    for (const mountPoint of ['sandbox', 'sandbox-init', 'tmp', 'proc', 'dev']) expect(existsSync(join(paths.rootfs, mountPoint))).toBe(true);
  });

  it('building an up-to-date environment again is a no-op', async (ctx) => {
    skipUnlessBuilt(ctx);
    const before = { record: readFileSync(paths.build, 'utf8'), target: readlinkSync(paths.ready) };
    const { stderr } = await run('bash', [BUILD_SCRIPT, 'python'], { timeout: 60_000 });
    expect(stderr).toContain('already built and up to date');
    expect({ record: readFileSync(paths.build, 'utf8'), target: readlinkSync(paths.ready) }).toEqual(before);
  });

  it('a failed build is shown as failed with how to resume, and never as ready', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('building needs root');
    const dir = tempDir('crucible-envs-');
    try {
      // A mirror that refuses connections: debootstrap fails at once.
      const failed = await run('bash', [BUILD_SCRIPT, 'python'], {
        env: { ...process.env, CRUCIBLE_ENVIRONMENTS_DIR: dir, CRUCIBLE_APT_MIRROR: 'http://127.0.0.1:9/debian' },
        timeout: 120_000,
      }).then(
        () => null,
        (err: { code: number }) => err,
      );
      expect(failed?.code).not.toBe(0);
      const catalogue = new FileEnvironmentCatalogue(dir);
      const state = await catalogue.state('python');
      expect(state.status).toBe('failed');
      expect(state.error).toMatch(/run the build again to resume/);
      expect(catalogue.rootfs('python')).toBeNull();
      expect(existsSync(join(dir, 'python'))).toBe(false);
      // While a build runs (its process alive), it is "building".
      writeFileSync(join(dir, '.build/python/status.json'), JSON.stringify({ status: 'building', pid: process.pid, started_at: 0 }));
      expect((await catalogue.state('python')).status).toBe('building');
      // Never built at all: not_built.
      mkdirSync(join(dir, 'other'), { recursive: true });
      expect((await catalogue.state('python-ml')).status).toBe('not_built');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
