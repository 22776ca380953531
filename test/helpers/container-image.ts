/**
 * The image scripts/build-image.sh built (build/image/crucible-VERSION.oci.tar) and the podman that
 * runs it: why a container test must skip (no archive, no podman), loading the archive, and
 * podman started through scripts/podman-with-host-limits.sh, which is how crun starts containers
 * on these machines (docs/operations.md, "Running it with podman on these machines").
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { which } from './ops-tools.js';
import { repoRoot } from './server.js';

export const imageVersion = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version as string;
export const imageArchive = path.join(repoRoot, `build/image/crucible-${imageVersion}.oci.tar`);
/** The name podman gives the loaded archive, and the one the Kubernetes overlays use. */
export const imageRef = `localhost/crucible:${imageVersion}`;
const podmanWithHostLimits = path.join(repoRoot, 'scripts/podman-with-host-limits.sh');

/** Why the image cannot be run here, or null. */
export function imageMissing(): string | null {
  if (!existsSync(imageArchive)) return `no image built (npm run build && scripts/build-image.sh produce ${path.relative(repoRoot, imageArchive)})`;
  if (!which('podman')) return 'podman is not installed (scripts/setup.sh --test installs it)';
  if (!which('unshare')) return 'unshare (util-linux) is missing';
  return null;
}

/** Loads the archive (podman keeps the layers it already holds: a reload after a rebuild copies only the changed ones). */
export function loadImage(): void {
  const loaded = spawnSync('podman', ['load', '-i', imageArchive], { encoding: 'utf8', timeout: 300_000 });
  expect(loaded.stdout + loaded.stderr).toContain(`Loaded image: ${imageRef}`);
}

/** podman ARGS to completion, started the way crun works on these machines. */
export function podman(args: string[], timeoutMs = 120_000) {
  return spawnSync(podmanWithHostLimits, args, { encoding: 'utf8', timeout: timeoutMs });
}

/** podman ARGS left running (a foreground `podman run`), its output collected. */
export function podmanInBackground(args: string[]): { child: ChildProcessWithoutNullStreams; output: () => string } {
  const child = spawn(podmanWithHostLimits, args, { stdio: 'pipe' });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

/** `podman inspect --format` of one object (container, pod, volume), trimmed. */
export function inspect(kind: 'container' | 'pod' | 'volume', name: string, format: string): string {
  const res = spawnSync('podman', [kind, 'inspect', name, '--format', format], { encoding: 'utf8', timeout: 30_000 });
  if (res.status !== 0) throw new Error(`podman ${kind} inspect ${name}: ${res.stderr}`);
  return res.stdout.trim();
}
