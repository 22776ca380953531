/**
 * Serves the built web UI at `/` and falls back to its index.html for client-side routes (e.g.
 * /evaluations/<id>), while unknown /api paths still get a JSON 404.
 */
import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { apiNotFound } from '../error-handler.js';

export async function webRoutes(app: FastifyInstance, webRoot: string | null): Promise<void> {
  const index = webRoot ? path.join(webRoot, 'index.html') : null;
  const hasUi = index !== null && fs.existsSync(index);
  if (hasUi) {
    await app.register(fastifyStatic, {
      root: webRoot!,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      // The build wrote .br and .gz copies of every asset (web/vite-precompress.ts): sent as they
      // are, at brotli's best quality, instead of being compressed again on every request.
      preCompressed: true,
      // Built assets have content hashes in their names: cache them for good. index.html names
      // the current assets, so it must be revalidated or an upgrade would point at deleted files.
      maxAge: '365d',
      immutable: true,
      setHeaders: (res, filePath) => {
        // (filePath is the copy sent: index.html.br or .gz too.)
        if (/\.html(?:\.br|\.gz)?$/u.test(filePath)) res.header('Cache-Control', 'no-cache');
      },
    });
  }
  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    const isApi = url.startsWith('/api/') || url === '/api' || url.startsWith('/docs');
    if (hasUi && request.method === 'GET' && !isApi && !path.extname(url)) {
      // Through @fastify/static: its precompressed copies and setHeaders' no-cache apply.
      return reply.sendFile('index.html');
    }
    return apiNotFound(request, reply);
  });
}
