/**
 * The OCI image (scripts/build-image.sh). Always: the layout writer produces a valid OCI layout
 * whose every digest and size is right (what podman, skopeo and containerd check on load), and its
 * layer cache. When an image has been built and podman is installed: the archive loads and the
 * image runs `crucible --version`, `crucible migrate` and `crucible serve` answering /healthz,
 * under gVisor's runsc as podman's OCI runtime, without a network; and, under podman's default
 * runtime crun, `crucible serve` with a worker runs an evaluation submitted through its API in the
 * bubblewrap sandbox inside the container, in the python environment the image carries (nothing
 * mounted from the host). crun is started through scripts/podman-with-host-limits.sh (rlimits
 * within the host's, no hybrid cgroup2 mount: docs/operations.md, "Container image").
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeOciLayout } from '../../scripts/oci-layout.js';
import { imageMissing, imageRef, imageVersion, loadImage, podmanInBackground } from '../helpers/container-image.js';
import { which } from '../helpers/ops-tools.js';
import { cliPath, freePort, repoRoot, tempDir, waitFor } from '../helpers/server.js';

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const blob = (layout: string, digest: string) => readFileSync(path.join(layout, 'blobs/sha256', digest.replace('sha256:', '')));
type Described = { digest: string; size: number };
/** index.json's one entry, the manifest and the config it names, each checked against its digest and size. */
function readLayout(layout: string) {
  const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: Array<Described & { annotations: Record<string, string> }> };
  expect(index.manifests).toHaveLength(1);
  const entry = index.manifests[0]!;
  const manifestBytes = blob(layout, entry.digest);
  expect([sha256(manifestBytes), manifestBytes.length]).toEqual([entry.digest, entry.size]);
  const manifest = JSON.parse(manifestBytes.toString()) as { mediaType: string; config: Described; layers: Described[] };
  const configBytes = blob(layout, manifest.config.digest);
  expect([sha256(configBytes), configBytes.length]).toEqual([manifest.config.digest, manifest.config.size]);
  const config = JSON.parse(configBytes.toString()) as { rootfs: { diff_ids: string[] } };
  return { entry, manifest, config };
}

describe('OCI layout writer', () => {
  it('writes a layout whose index, manifest, config and layers agree by digest and size, lowest layer first', async () => {
    const dir = tempDir('crucible-oci-');
    const tars = ['base', 'app'].map((name) => {
      mkdirSync(path.join(dir, name, 'usr/local/bin'), { recursive: true });
      writeFileSync(path.join(dir, name, `usr/local/bin/${name}`), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
      execFileSync('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '-C', path.join(dir, name), '-cf', path.join(dir, `${name}.tar`), '.']);
      return path.join(dir, `${name}.tar`);
    });
    const layout = path.join(dir, 'layout');
    const runtime = { Entrypoint: ['/usr/local/bin/crucible'], Cmd: ['serve'] };
    await writeOciLayout(tars, layout, 'crucible:test', runtime);

    expect(JSON.parse(readFileSync(path.join(layout, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const { entry, manifest, config } = readLayout(layout);
    expect(entry.annotations['org.opencontainers.image.ref.name']).toBe('crucible:test');
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(config).toMatchObject({ os: 'linux', architecture: 'amd64', config: runtime });
    expect(manifest.layers).toHaveLength(2);
    manifest.layers.forEach((layer, i) => {
      const bytes = blob(layout, layer.digest);
      expect([sha256(bytes), bytes.length]).toEqual([layer.digest, layer.size]);
      // The diff id is the uncompressed layer's digest: the tarball itself.
      expect(config.rootfs.diff_ids[i]).toBe(sha256(gunzipSync(bytes)));
      expect(gunzipSync(bytes)).toEqual(readFileSync(tars[i]!));
    });
  });

  it("a layer cache gives the same layers again, and keeps only the last image's", async () => {
    const dir = tempDir('crucible-oci-cache-');
    const tar = (name: string, content: string) => {
      mkdirSync(path.join(dir, name), { recursive: true });
      writeFileSync(path.join(dir, name, 'file'), content);
      execFileSync('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '-C', path.join(dir, name), '-cf', path.join(dir, `${name}.tar`), '.']);
      return path.join(dir, `${name}.tar`);
    };
    const layerCache = path.join(dir, 'cache');
    const base = tar('base', 'the same every build');
    await writeOciLayout([base, tar('app1', 'first build')], path.join(dir, 'one'), 'crucible:test', {}, { layerCache });
    await writeOciLayout([base, tar('app2', 'second build')], path.join(dir, 'two'), 'crucible:test', {}, { layerCache });
    const one = readLayout(path.join(dir, 'one'));
    const two = readLayout(path.join(dir, 'two'));
    expect(two.manifest.layers[0]).toEqual(one.manifest.layers[0]);
    expect(blob(path.join(dir, 'two'), two.manifest.layers[0]!.digest)).toEqual(blob(path.join(dir, 'one'), one.manifest.layers[0]!.digest));
    expect(two.manifest.layers[1]!.digest).not.toBe(one.manifest.layers[1]!.digest);
    const cached = readdirSync(layerCache).sort();
    expect(cached).toEqual(two.config.rootfs.diff_ids.flatMap((id) => [`${id.slice(7)}.json`, `${id.slice(7)}.tar.gz`]).sort());
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

const missing = imageMissing();
if (missing) console.warn(`container image run skipped: ${missing}`);
const noRunsc = which('runsc') ? null : 'runsc (gVisor) is not installed';
if (!missing && noRunsc) console.warn(`container image run under runsc skipped: ${noRunsc}`);

describe.skipIf(missing !== null)('the built image under podman', () => {
  const image = imageRef;
  const run = (args: string[]) =>
    spawnSync('podman', ['--runtime', '/usr/bin/runsc', '--runtime-flag', 'network=none', 'run', '--rm', '--network', 'none', ...args], {
      encoding: 'utf8',
      timeout: 120_000,
    });

  beforeAll(loadImage, 300_000);

  it.skipIf(noRunsc !== null)(
    'runs crucible --version, migrate and serve (healthz) under runsc',
    () => {
      expect(run([image, '--version']).stdout.trim()).toBe(imageVersion);
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

  it('serves under crun and runs an evaluation through its API in the bubblewrap sandbox inside the container, with nothing mounted', async () => {
    const port = await freePort();
    const name = `crucible-test-${randomBytes(4).toString('hex')}`;
    const container = podmanInBackground([
      'run',
      '--rm',
      '--name',
      name,
      // The sandbox needs what the Kubernetes sandbox-host component grants: a writable cgroup tree and namespaces.
      '--privileged',
      '--network',
      'host',
      // No volume: the python environment is a layer of the image.
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
    ]);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        'the container to serve',
        async () => {
          if (container.child.exitCode !== null) throw new Error(`the container exited (${container.child.exitCode}): ${container.output()}`);
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
      expect(evaluation, container.output()).toMatchObject({ status: 'completed', sandbox: 'bubblewrap', reason: 'exit_zero', stdout: 'inside 65534 3\n' });
      // Measured by the sandbox's own cgroup inside the container.
      expect(evaluation.metrics.peak_memory_bytes).toBeGreaterThan(0);
    } finally {
      spawnSync('podman', ['stop', '--time', '10', name], { timeout: 60_000 });
      if (container.child.exitCode === null) container.child.kill('SIGKILL');
    }
  }, 300_000);
});
