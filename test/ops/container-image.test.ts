/**
 * The OCI image (scripts/build-image.sh). Always: the layout writer produces a valid OCI layout
 * whose every digest and size is right (what podman, skopeo and containerd check on load). When an
 * image has been built (`scripts/build-image.sh`, minutes: not part of every run) and podman is
 * installed: the archive loads and the image runs `crucible --version`, `crucible migrate` and
 * `crucible serve` answering /healthz, under gVisor's runsc as podman's OCI runtime, without a
 * network; and, under podman's default runtime crun, `crucible serve` with a worker runs an
 * evaluation submitted through its API in the bubblewrap sandbox inside the container. crun needs
 * two things on these machines (docs/operations.md, "Container image"): rlimits no higher than the
 * host's (root lacks CAP_SYS_RESOURCE to raise them) and no cgroup2 mount beside the v1 ones (a
 * private mount namespace without /sys/fs/cgroup/unified).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeOciLayout } from '../../scripts/oci-layout.js';
import { defaultEnvironmentsDir } from '../../src/sandbox/environments/paths.js';
import { cliPath, freePort, repoRoot, tempDir, waitFor } from '../helpers/server.js';

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const blob = (layout: string, digest: string) => readFileSync(path.join(layout, 'blobs/sha256', digest.replace('sha256:', '')));

describe('OCI layout writer', () => {
  it('writes a layout whose index, manifest, config and layer agree by digest and size', async () => {
    const dir = tempDir('crucible-oci-');
    mkdirSync(path.join(dir, 'rootfs/usr/local/bin'), { recursive: true });
    writeFileSync(path.join(dir, 'rootfs/usr/local/bin/crucible'), '#!/bin/sh\necho 0.1.0\n', { mode: 0o755 });
    execFileSync('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '-C', path.join(dir, 'rootfs'), '-cf', path.join(dir, 'rootfs.tar'), '.']);
    const layout = path.join(dir, 'layout');
    const runtime = { Entrypoint: ['/usr/local/bin/crucible'], Cmd: ['serve'] };
    await writeOciLayout(path.join(dir, 'rootfs.tar'), layout, 'crucible:test', runtime);

    expect(JSON.parse(readFileSync(path.join(layout, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'));
    expect(index.manifests).toHaveLength(1);
    const entry = index.manifests[0];
    expect(entry.annotations['org.opencontainers.image.ref.name']).toBe('crucible:test');
    const manifestBytes = blob(layout, entry.digest);
    expect(sha256(manifestBytes)).toBe(entry.digest);
    expect(manifestBytes.length).toBe(entry.size);
    const manifest = JSON.parse(manifestBytes.toString());
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const configBytes = blob(layout, manifest.config.digest);
    expect([sha256(configBytes), configBytes.length]).toEqual([manifest.config.digest, manifest.config.size]);
    const config = JSON.parse(configBytes.toString());
    expect(config).toMatchObject({ os: 'linux', architecture: 'amd64', config: runtime });
    const layerBytes = blob(layout, manifest.layers[0].digest);
    expect([sha256(layerBytes), layerBytes.length]).toEqual([manifest.layers[0].digest, manifest.layers[0].size]);
    // The diff id is the uncompressed layer's digest: the tarball itself.
    expect(config.rootfs.diff_ids).toEqual([sha256(gunzipSync(layerBytes))]);
    expect(gunzipSync(layerBytes)).toEqual(readFileSync(path.join(dir, 'rootfs.tar')));
  });

  it("crucible migrate (the image's one-shot role) brings a data directory to the current schema and exits", () => {
    const dataDir = tempDir('crucible-migrate-');
    const res = spawnSync(process.execPath, [cliPath, 'migrate', '--data-dir', dataDir], { encoding: 'utf8', timeout: 60_000 });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toContain(`the data directory ${dataDir} is at the current schema`);
    expect(existsSync(path.join(dataDir, 'crucible.db'))).toBe(true);
  });

  it('the build script parses and refuses to run without what it needs, saying what', () => {
    expect(spawnSync('bash', ['-n', path.join(repoRoot, 'scripts/build-image.sh')]).status).toBe(0);
    const res = spawnSync('bash', [path.join(repoRoot, 'scripts/build-image.sh'), '--bogus'], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('unknown option --bogus');
  });
});

const version = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version as string;
const archive = path.join(repoRoot, `build/image/crucible-${version}.oci.tar`);
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = !existsSync(archive)
  ? `no image built (run scripts/build-image.sh to produce ${path.relative(repoRoot, archive)})`
  : !has('podman')
    ? 'podman is not installed (scripts/setup.sh --test installs it)'
    : null;
if (missing) console.warn(`container image run skipped: ${missing}`);
const environments = defaultEnvironmentsDir();
const noRunsc = has('runsc') ? null : 'runsc (gVisor) is not installed';
const noCrunRun = !existsSync(path.join(environments, 'python/environment.json'))
  ? `the python environment is not built in ${environments} (the container mounts it)`
  : !has('unshare')
    ? 'unshare (util-linux) is missing'
    : null;
if (!missing && noRunsc) console.warn(`container image run under runsc skipped: ${noRunsc}`);
if (!missing && noCrunRun) console.warn(`container image evaluation under crun skipped: ${noCrunRun}`);

describe.skipIf(missing !== null)('the built image under podman', () => {
  const image = `localhost/crucible:${version}`;
  const run = (args: string[]) =>
    spawnSync('podman', ['--runtime', '/usr/bin/runsc', '--runtime-flag', 'network=none', 'run', '--rm', '--network', 'none', ...args], {
      encoding: 'utf8',
      timeout: 120_000,
    });

  beforeAll(() => {
    const loaded = spawnSync('podman', ['load', '-i', archive], { encoding: 'utf8', timeout: 300_000 });
    expect(loaded.stdout + loaded.stderr).toContain(`Loaded image: ${image}`);
  }, 300_000);

  it.skipIf(noRunsc !== null)(
    'runs crucible --version, migrate and serve (healthz) under runsc',
    () => {
      expect(run([image, '--version']).stdout.trim()).toBe(version);
      expect(run([image, 'migrate']).stdout).toContain('the data directory /var/lib/crucible/data is at the current schema');
      const probe =
        'fetch("http://127.0.0.1:8080/healthz").then(async (r) => { console.log(r.status, await r.text()); process.exit(r.ok ? 0 : 1) }, () => process.exit(1))';
      const serve = run([
        '--entrypoint',
        '/bin/sh',
        image,
        '-c',
        `crucible serve --workers 0 >/tmp/serve.log 2>&1 & for i in $(seq 1 100); do node -e '${probe}' && exit 0; sleep 0.3; done; cat /tmp/serve.log; exit 1`,
      ]);
      expect(serve.stdout + serve.stderr).toContain('200 {"status":"ok"');
    },
    600_000,
  );

  it.skipIf(noCrunRun !== null)(
    'serves under crun and runs an evaluation through its API in the bubblewrap sandbox inside the container',
    async () => {
      const port = await freePort();
      const name = `crucible-test-${randomBytes(4).toString('hex')}`;
      // podman's default rlimits (nofile 1048576, nproc 32768 or more) are above the host's hard limits, which root here may not raise.
      const nofile = Math.min(20_000, Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' })) || 20_000);
      const podmanArgs = [
        'run',
        '--rm',
        '--name',
        name,
        // The sandbox needs what the Kubernetes sandbox-host component grants: a writable cgroup tree and namespaces.
        '--privileged',
        '--network',
        'host',
        '--ulimit',
        `nofile=${nofile}:${nofile}`,
        '--ulimit',
        'nproc=32768:32768',
        // The image holds the environment manifests; the built root filesystems come from a volume.
        '--volume',
        `${environments}:/var/lib/crucible/environments:ro`,
        image,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--workers',
        '1',
        '--environments',
        'python',
      ];
      // crun refuses a hybrid cgroup layout: podman runs in a mount namespace of its own without the cgroup2 mount.
      const container = spawn(
        'unshare',
        ['--mount', '--propagation', 'private', 'sh', '-c', 'umount /sys/fs/cgroup/unified 2>/dev/null; exec podman "$@"', 'podman', ...podmanArgs],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      container.stdout.on('data', (d: Buffer) => (output += d.toString()));
      container.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitFor(
          'the container to serve',
          async () => {
            if (container.exitCode !== null) throw new Error(`the container exited (${container.exitCode}): ${output}`);
            return (await fetch(`${url}/readyz`).catch(() => null))?.status === 200;
          },
          120_000,
          500,
        );
        const res = await fetch(`${url}/api/evaluations?wait=true`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ code: 'import os, sys\nprint("inside", os.getuid(), sys.version_info[0])' }),
        });
        const evaluation = (await res.json()) as {
          status: string;
          sandbox: string;
          stdout: string;
          reason: string;
          metrics: { peak_memory_bytes: number | null };
        };
        expect(evaluation, output).toMatchObject({ status: 'completed', sandbox: 'bubblewrap', reason: 'exit_zero', stdout: 'inside 65534 3\n' });
        // Measured by the sandbox's own cgroup inside the container.
        expect(evaluation.metrics.peak_memory_bytes).toBeGreaterThan(0);
      } finally {
        spawnSync('podman', ['stop', '--time', '10', name], { timeout: 60_000 });
        if (container.exitCode === null) container.kill('SIGKILL');
      }
    },
    300_000,
  );
});
