/**
 * Builds the web UI into dist/web, which `crucible serve` serves at `/`.
 * Everything (Monaco and its worker included) is bundled: the UI must work with no network
 * access beyond the Crucible server itself.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { precompressAssets } from './vite-precompress.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
// During `vite dev`, API calls go to a locally running `crucible serve`.
const apiTarget = process.env.CRUCIBLE_API_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: here,
  base: '/',
  plugins: [react(), precompressAssets()],
  resolve: {
    alias: {
      // Monaco's package exports map every subpath to `*.js`, which makes its CSS files and
      // individual editor contributions unreachable; this alias reaches the ESM tree directly so
      // we can import only the editor features and the one language we use.
      'monaco-esm': fileURLToPath(new URL('../node_modules/monaco-editor/esm/vs', import.meta.url)),
    },
  },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    sourcemap: false,
  },
  server: {
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
      '/healthz': apiTarget,
      '/readyz': apiTarget,
      '/docs': apiTarget,
    },
  },
});
