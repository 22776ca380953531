/**
 * Latency of one small program end to end: POST /api/evaluations?wait=true with hello world,
 * sequentially, each request followed by a bare /usr/bin/python3 run of the same file so machine
 * noise hits both columns alike.
 */
import fs from 'node:fs';
import { api, tempDir } from '../test/helpers/server.js';
import type { Evaluation } from '../src/domain/evaluation.js';
import { runBare, writePrograms } from './lib/bare.js';
import { startBenchServer } from './lib/server.js';
import { distribution, round } from './lib/stats.js';
import type { Section } from './lib/section.js';

const HELLO = 'print("Hello, world!")\n';

export async function latencyBench(opts: { requests: number }): Promise<Section> {
  const dir = tempDir('crucible-bench-latency-');
  const server = await startBenchServer(['--workers', '2']);
  try {
    const [file] = writePrograms(dir, [{ name: 'hello', code: HELLO }]);
    const submit = async () => {
      const t = performance.now();
      const res = await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait=true', { code: HELLO, tags: ['bench:latency'] });
      const ms = performance.now() - t;
      if (res.status !== 200 || res.body.status !== 'completed')
        throw new Error(`hello world did not complete: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      return { ms, sandboxWallMs: res.body.metrics.wall_ms ?? Number.NaN };
    };
    for (let i = 0; i < 10; i++) {
      await submit();
      await runBare(file!);
    }
    const crucible: number[] = [];
    const sandboxWall: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < opts.requests; i++) {
      const r = await submit();
      crucible.push(r.ms);
      sandboxWall.push(r.sandboxWallMs);
      bare.push((await runBare(file!)).ms);
    }
    const c = distribution(crucible);
    const b = distribution(bare);
    const w = distribution(sandboxWall);
    return {
      name: 'latency',
      title: `Latency: hello world with ?wait=true, ${opts.requests} sequential requests, interleaved with bare python`,
      rows: [
        { metric: 'p50 end to end (ms)', crucible: c.p50, baseline: b.p50, target: 'p50 ≤ 30 ms', met: c.p50 <= 30 },
        { metric: 'p95 end to end (ms)', crucible: c.p95, baseline: b.p95 },
        { metric: 'p99 end to end (ms)', crucible: c.p99, baseline: b.p99 },
        { metric: 'p50 overhead over bare (ms)', crucible: round(c.p50 - b.p50) },
        { metric: 'p50 wall time inside the sandbox (ms)', crucible: w.p50, baseline: b.p50, note: 'metrics.wall_ms reported by the platform' },
      ],
      notes: [],
      data: { crucible: c, bare: b, sandbox_wall: w },
    };
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
