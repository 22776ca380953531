/**
 * The worker process's own small HTTP server: GET /metrics (Prometheus) and GET /healthz (for a
 * liveness probe). A worker has no API, and each worker process's numbers (busy and warm
 * sandboxes, sandbox start times) are its own, so each is scraped on a port of its own.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from '../ports/metrics.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: Metrics, listen: { host: string; port: number }, onError: (err: unknown) => void): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      metrics.render().then(
        ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
        (err: unknown) => {
          onError(err);
          response.writeHead(500).end();
        },
      );
    } else if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","checks":{}}');
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
