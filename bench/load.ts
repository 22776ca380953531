/**
 * Load: 10, 50 and 100 concurrent submitters, each submitting a bounded number of small programs
 * with ?wait=true one after another. Measures throughput, request latency, that every evaluation
 * reached a terminal state (checked again from storage afterwards), and the server's RSS. Each
 * level is preceded by the bare baseline: the same program run 2 at a time by /usr/bin/python3.
 */
import fs from 'node:fs';
import { isTerminal, type Evaluation } from '../src/domain/evaluation.js';
import { api, tempDir } from '../test/helpers/server.js';
import { listByTag } from './lib/api.js';
import { runBare, writePrograms } from './lib/bare.js';
import { startBenchServer } from './lib/server.js';
import { distribution, pool, round } from './lib/stats.js';
import type { Row, Section } from './lib/section.js';

const PROGRAM = 'total = sum(i * i for i in range(20000))\nprint(total)\n';

export async function loadBench(opts: { levels: Array<{ submitters: number; each: number }> }): Promise<Section> {
  const dir = tempDir('crucible-bench-load-');
  const server = await startBenchServer(['--workers', '2']);
  const rows: Row[] = [];
  const levels: unknown[] = [];
  try {
    const [file] = writePrograms(dir, [{ name: 'load', code: PROGRAM }]);
    for (const { submitters, each } of opts.levels) {
      const total = submitters * each;
      const bareStart = performance.now();
      await pool(Array.from({ length: total }), 2, () => runBare(file!));
      const bareThroughput = total / ((performance.now() - bareStart) / 1000);

      const tag = `bench:load:${submitters}`;
      const rssBefore = server.rssKb();
      const latencies: number[] = [];
      let notTerminal = 0;
      let errors = 0;
      const t = performance.now();
      await Promise.all(
        Array.from({ length: submitters }, async () => {
          for (let i = 0; i < each; i++) {
            const s = performance.now();
            const res = await api<Evaluation>(server.url, 'POST', '/api/evaluations?wait_s=120', { code: PROGRAM, tags: [tag] });
            latencies.push(performance.now() - s);
            if (res.status >= 400) errors++;
            else if (!isTerminal(res.body.status)) notTerminal++;
          }
        }),
      );
      const seconds = (performance.now() - t) / 1000;
      const rssAfter = server.rssKb();
      const stored = await listByTag(server.url, tag);
      const terminal = stored.filter((e) => isTerminal(e.status)).length;
      const completed = stored.filter((e) => e.status === 'completed').length;
      const d = distribution(latencies);
      const throughput = total / seconds;
      rows.push(
        {
          metric: `${submitters} submitters × ${each}: throughput (evals/s)`,
          crucible: round(throughput),
          baseline: round(bareThroughput),
          ratio: round(throughput / bareThroughput, 2),
        },
        { metric: `${submitters} submitters: latency p50 / p95 / p99 (ms)`, crucible: `${d.p50} / ${d.p95} / ${d.p99}` },
        {
          metric: `${submitters} submitters: terminal / completed / stored`,
          crucible: `${terminal} / ${completed} / ${stored.length}`,
          baseline: total,
          target: '100% terminal',
          met: terminal === total && stored.length === total && errors === 0 && notTerminal === 0,
        },
        { metric: `${submitters} submitters: server RSS before → after (MiB)`, crucible: `${round(rssBefore / 1024)} → ${round(rssAfter / 1024)}` },
      );
      levels.push({
        submitters,
        each,
        total,
        seconds: round(seconds, 3),
        throughput: round(throughput),
        bare_throughput: round(bareThroughput),
        latency_ms: d,
        terminal,
        completed,
        stored: stored.length,
        http_errors: errors,
        not_terminal_in_response: notTerminal,
        rss_kb_before: rssBefore,
        rss_kb_after: rssAfter,
      });
    }
    return {
      name: 'load',
      title: 'Load: concurrent submitters with ?wait, server with 2 workers; baseline = same program bare, 2 at a time',
      rows,
      notes: [],
      data: { program: PROGRAM, levels },
    };
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
