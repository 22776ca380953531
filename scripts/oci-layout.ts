/**
 * Writes an OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
 * from one root-filesystem tarball, with no registry, daemon or image tool: the layer (gzipped),
 * the image config, the manifest and index.json, every blob named by its sha256. podman, skopeo
 * and containerd load the result (`podman load -i` on its tar, an "OCI archive").
 *
 *   tsx scripts/oci-layout.ts ROOTFS.tar OUT_DIR NAME:TAG [config.json]
 *
 * config.json holds the image's runtime config (Entrypoint, Cmd, Env, User, ExposedPorts...).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { Transform } from 'node:stream';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface OciRuntimeConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function writeBlob(out: string, data: Buffer | string, mediaType: string): Descriptor {
  const digest = sha256(data);
  writeFileSync(path.join(out, 'blobs/sha256', digest), data);
  return { mediaType, digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
}

/** Gzips the tarball into a blob, hashing the tar (the diff id) and the gzip (the digest) in one pass. */
async function writeLayer(out: string, rootfsTar: string): Promise<{ layer: Descriptor; diffId: string }> {
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  let size = 0;
  const temporary = path.join(out, 'blobs/sha256', '.layer.partial');
  const hashTar = new Transform({
    transform(chunk: Buffer, _enc, done) {
      tarHash.update(chunk);
      done(null, chunk);
    },
  });
  const hashGz = new Transform({
    transform(chunk: Buffer, _enc, done) {
      gzHash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(rootfsTar), hashTar, createGzip({ level: 6 }), hashGz, createWriteStream(temporary));
  const digest = gzHash.digest('hex');
  renameSync(temporary, path.join(out, 'blobs/sha256', digest));
  return { layer: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${digest}`, size }, diffId: `sha256:${tarHash.digest('hex')}` };
}

export async function writeOciLayout(
  rootfsTar: string,
  out: string,
  ref: string,
  runtime: OciRuntimeConfig,
  created = new Date(0).toISOString(),
): Promise<Descriptor> {
  mkdirSync(path.join(out, 'blobs/sha256'), { recursive: true });
  const { layer, diffId } = await writeLayer(out, rootfsTar);
  const config = {
    created,
    architecture: 'amd64',
    os: 'linux',
    config: runtime,
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: 'scripts/build-image.sh (debootstrap root filesystem)' }],
  };
  const configBlob = writeBlob(out, JSON.stringify(config), 'application/vnd.oci.image.config.v1+json');
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configBlob, layers: [layer] };
  const manifestBlob = writeBlob(out, JSON.stringify(manifest), 'application/vnd.oci.image.manifest.v1+json');
  const described: Descriptor = { ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': ref } };
  writeFileSync(
    path.join(out, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [described] }),
  );
  writeFileSync(path.join(out, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return described;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [rootfsTar, out, ref, configFile] = process.argv.slice(2);
  if (!rootfsTar || !out || !ref) {
    process.stderr.write('usage: tsx scripts/oci-layout.ts ROOTFS.tar OUT_DIR NAME:TAG [config.json]\n');
    process.exit(2);
  }
  const runtime = configFile ? (JSON.parse(readFileSync(configFile, 'utf8')) as OciRuntimeConfig) : {};
  const manifest = await writeOciLayout(
    rootfsTar,
    out,
    ref,
    runtime,
    process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000).toISOString() : undefined,
  );
  process.stdout.write(`${out}: ${ref} ${manifest.digest} (layer from ${statSync(rootfsTar).size} bytes of tar)\n`);
}
