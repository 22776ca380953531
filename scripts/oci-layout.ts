/**
 * Writes an OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
 * from root-filesystem tarballs, one layer each (lowest first), with no registry, daemon or image
 * tool: the layers (gzipped), the image config, the manifest and index.json, every blob named by
 * its sha256. podman, skopeo and containerd load the result (`podman load -i` on its tar, an "OCI
 * archive"), and skip a layer they already hold (same diff id): an image rebuilt with only a new
 * application layer loads in seconds.
 *
 *   tsx scripts/oci-layout.ts OUT_DIR NAME:TAG config.json LAYER.tar [LAYER.tar...]
 *   OCI_LAYER_CACHE=DIR   keep gzipped layers by diff id, so an unchanged tarball is not gzipped again
 *
 * config.json holds the image's runtime config (Entrypoint, Cmd, Env, User, ExposedPorts...).
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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

const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

interface WrittenLayer {
  layer: Descriptor;
  diffId: string;
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Gzips the tarball into a blob, hashing the tar (the diff id) and the gzip (the digest) in one pass. */
async function gzipLayer(out: string, tar: string): Promise<WrittenLayer> {
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
  await pipeline(createReadStream(tar), hashTar, createGzip({ level: 6 }), hashGz, createWriteStream(temporary));
  const digest = gzHash.digest('hex');
  renameSync(temporary, path.join(out, 'blobs/sha256', digest));
  return { layer: { mediaType: LAYER_MEDIA_TYPE, digest: `sha256:${digest}`, size }, diffId: `sha256:${tarHash.digest('hex')}` };
}

/**
 * A layer from the cache when this exact tarball (by diff id) was gzipped before, else gzipped
 * and added to the cache. The cache holds `<diff id>.tar.gz` beside `<diff id>.json` (the gzip's
 * digest and size), the JSON written last so that an interrupted write is a miss, not a bad blob.
 */
async function cachedLayer(out: string, tar: string, cache: string): Promise<WrittenLayer> {
  const diffHex = await sha256OfFile(tar);
  const entry = path.join(cache, diffHex);
  if (existsSync(`${entry}.json`)) {
    const layer = JSON.parse(readFileSync(`${entry}.json`, 'utf8')) as Descriptor;
    copyFileSync(`${entry}.tar.gz`, path.join(out, 'blobs/sha256', layer.digest.replace('sha256:', '')));
    return { layer, diffId: `sha256:${diffHex}` };
  }
  const written = await gzipLayer(out, tar);
  mkdirSync(cache, { recursive: true });
  copyFileSync(path.join(out, 'blobs/sha256', written.layer.digest.replace('sha256:', '')), `${entry}.tar.gz`);
  writeFileSync(`${entry}.json`, JSON.stringify(written.layer));
  return written;
}

/** The cache keeps the layers of the last image written: the application layer changes with every build. */
function keepOnly(cache: string, layers: WrittenLayer[]): void {
  const kept = new Set(layers.map((l) => l.diffId.replace('sha256:', '')));
  for (const file of readdirSync(cache)) if (!kept.has(file.replace(/\.(tar\.gz|json)$/, ''))) rmSync(path.join(cache, file), { force: true });
}

export async function writeOciLayout(
  layerTars: string[],
  out: string,
  ref: string,
  runtime: OciRuntimeConfig,
  options: { created?: string; layerCache?: string } = {},
): Promise<Descriptor> {
  const created = options.created ?? new Date(0).toISOString();
  mkdirSync(path.join(out, 'blobs/sha256'), { recursive: true });
  const layers: WrittenLayer[] = [];
  for (const tar of layerTars) layers.push(options.layerCache ? await cachedLayer(out, tar, options.layerCache) : await gzipLayer(out, tar));
  if (options.layerCache) keepOnly(options.layerCache, layers);
  const config = {
    created,
    architecture: 'amd64',
    os: 'linux',
    config: runtime,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layerTars.map((tar) => ({ created, created_by: `scripts/build-image.sh (${path.basename(tar)})` })),
  };
  const configBlob = writeBlob(out, JSON.stringify(config), 'application/vnd.oci.image.config.v1+json');
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: configBlob,
    layers: layers.map((l) => l.layer),
  };
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
  const [out, ref, configFile, ...layerTars] = process.argv.slice(2);
  if (!out || !ref || !configFile || layerTars.length === 0) {
    process.stderr.write('usage: tsx scripts/oci-layout.ts OUT_DIR NAME:TAG config.json LAYER.tar [LAYER.tar...]\n');
    process.exit(2);
  }
  const runtime = JSON.parse(readFileSync(configFile, 'utf8')) as OciRuntimeConfig;
  const manifest = await writeOciLayout(layerTars, out, ref, runtime, {
    created: process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000).toISOString() : undefined,
    layerCache: process.env.OCI_LAYER_CACHE || undefined,
  });
  const bytes = layerTars.reduce((sum, tar) => sum + statSync(tar).size, 0);
  process.stdout.write(`${out}: ${ref} ${manifest.digest} (${layerTars.length} layers from ${bytes} bytes of tar)\n`);
}
