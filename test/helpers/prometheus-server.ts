/**
 * A private, real Prometheus for tests (the Debian package): its own data directory, a free port
 * on 127.0.0.1, a short scrape interval, and stopped by its own PID. The configuration is the
 * shipped deploy/prometheus/prometheus.yml with its targets pointed at test servers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startProcess, type Proc } from './processes.js';
import { deployDir } from './ops-tools.js';
import { freePort, tempDir, waitFor } from './server.js';

export interface PrometheusServer {
  url: string;
  proc: Proc;
  /** Instant query; the result vector. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

/** The shipped config, with each job's static targets replaced and a fast scrape interval. */
export function testConfig(targets: Record<string, string[]>, intervalS = 1): string {
  let config = fs.readFileSync(path.join(deployDir, 'prometheus/prometheus.yml'), 'utf8');
  config = config.replace(/scrape_interval: \S+/, `scrape_interval: ${intervalS}s`).replace(/evaluation_interval: \S+/, `evaluation_interval: ${intervalS}s`);
  for (const [job, hosts] of Object.entries(targets)) {
    const re = new RegExp(`(job_name: ${job}\\n[\\s\\S]*?targets: )\\[[^\\]]*\\]`);
    if (!re.test(config)) throw new Error(`job ${job} not in prometheus.yml`);
    config = config.replace(re, `$1[${hosts.map((h) => `'${h}'`).join(', ')}]`);
  }
  return config;
}

export async function startPrometheus(config: string): Promise<PrometheusServer> {
  const dir = tempDir('crucible-prometheus-');
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
  // The rule file next to the config, as in deploy/prometheus.
  fs.copyFileSync(path.join(deployDir, 'prometheus/alerts.yml'), path.join(dir, 'alerts.yml'));
  const port = await freePort();
  const proc = await startProcess(
    [
      'prometheus',
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.console.templates=/dev/null',
      '--web.console.libraries=/dev/null',
    ],
    { ready: /Server is ready to receive web requests/, timeoutMs: 30_000 },
  );
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    proc,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as {
        status: string;
        data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
        error?: string;
      };
      if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
      return body.data!.result;
    },
    async stop() {
      await proc.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `promql` returns a sample for which `accept` holds; returns that result. */
export async function waitForQuery(prometheus: PrometheusServer, promql: string, accept: (value: number) => boolean, timeoutMs = 30_000) {
  return waitFor(
    `Prometheus: ${promql}`,
    async () => {
      const result = await prometheus.query(promql);
      return result.length > 0 && result.every((r) => accept(Number(r.value[1]))) && result;
    },
    timeoutMs,
    250,
  );
}
