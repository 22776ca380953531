/**
 * Writes a brotli (`.br`) and a gzip (`.gz`) copy next to every built text asset, once, at build
 * time. The server sends them as they are (@fastify/static's `preCompressed`), so a browser gets
 * the smallest encoding it takes without the server compressing the same bytes on every request:
 * brotli at its best quality shrinks the main bundle ~10% more than gzip, but costs seconds of CPU,
 * which only a build can afford. Files over 512 KiB (the lazily loaded editor) get quality 9:
 * quality 11 took ~8 s for its 4 MB, 9 takes ~0.4 s for 10% more bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Plugin } from 'vite';

const COMPRESSIBLE = /\.(?:js|mjs|css|html|svg|json|txt|ttf|map)$/u;
/** Below this, an encoded copy saves too little to be worth a request's content negotiation. */
const MIN_BYTES = 1024;
const BEST_QUALITY_MAX_BYTES = 512 * 1024;

const brotliCompress = promisify(zlib.brotliCompress);
const gzipCompress = promisify(zlib.gzip);

/** Compresses on libuv's thread pool, so the files are done in parallel on every core. */
async function precompressFile(file: string): Promise<void> {
  const bytes = await fs.promises.readFile(file);
  if (bytes.length < MIN_BYTES) return;
  const quality = bytes.length <= BEST_QUALITY_MAX_BYTES ? zlib.constants.BROTLI_MAX_QUALITY : 9;
  const [brotli, gzip] = await Promise.all([
    brotliCompress(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: quality, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }),
    gzipCompress(bytes, { level: zlib.constants.Z_BEST_COMPRESSION }),
  ]);
  // A copy no smaller than the file would only cost the client a decoding.
  if (brotli.length < bytes.length) await fs.promises.writeFile(`${file}.br`, brotli);
  if (gzip.length < bytes.length) await fs.promises.writeFile(`${file}.gz`, gzip);
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

export function precompressAssets(): Plugin {
  return {
    name: 'crucible-precompress-assets',
    apply: 'build',
    async writeBundle(options) {
      if (!options.dir) return;
      await Promise.all(
        filesUnder(options.dir)
          .filter((file) => COMPRESSIBLE.test(file))
          .map(precompressFile),
      );
    },
  };
}
