/**
 * Queue overflow: a server with no local worker and a small --max-queue-depth takes submissions
 * from many concurrent clients. Beyond the depth every submission must get 503 with Retry-After,
 * and every 202 must be stored. Then the server is stopped and started again on the same data
 * directory with workers: every accepted evaluation must complete (nothing lost across the
 * restart either).
 */
import fs from 'node:fs';
import { isTerminal, type Evaluation } from '../src/domain/evaluation.js';
import { api, tempDir, waitFor } from '../test/helpers/server.js';
import { listByTag } from './lib/api.js';
import { startBenchServer } from './lib/server.js';
import { pool } from './lib/stats.js';
import type { Section } from './lib/section.js';

export async function overflowBench(opts: { depth: number; submissions: number }): Promise<Section> {
  const dataDir = tempDir('crucible-bench-overflow-');
  const tag = 'bench:overflow';
  try {
    const intake = await startBenchServer(['--workers', '0', '--max-queue-depth', String(opts.depth)], { dataDir, keepDataDir: true });
    let accepted: string[] = [];
    let rejected = 0;
    let withRetryAfter = 0;
    let other = 0;
    let batchRejected = false;
    try {
      const results = await pool(Array.from({ length: opts.submissions }), 25, async (_, i) =>
        api<Evaluation>(intake.url, 'POST', '/api/evaluations', { code: `print(${i})\n`, tags: [tag] }),
      );
      for (const r of results) {
        if (r.status === 202) accepted.push(r.body.id);
        else if (r.status === 503) {
          rejected++;
          if (Number(r.headers.get('retry-after')) > 0) withRetryAfter++;
        } else other++;
      }
      // A batch that does not fit is refused as a whole.
      const batch = await api(intake.url, 'POST', '/api/evaluations/batch', { evaluations: [{ code: 'print(1)', tags: [tag] }] });
      batchRejected = batch.status === 503;
    } finally {
      await intake.stop();
    }

    const runner = await startBenchServer(['--workers', '2'], { dataDir, keepDataDir: true });
    let stored: Awaited<ReturnType<typeof listByTag>> = [];
    try {
      await waitFor(
        'accepted evaluations to finish',
        async () => {
          stored = await listByTag(runner.url, tag);
          return stored.length === accepted.length && stored.every((e) => isTerminal(e.status));
        },
        60_000,
        200,
      );
    } finally {
      await runner.stop();
    }
    const storedIds = new Set(stored.map((e) => e.id));
    const lost = accepted.filter((id) => !storedIds.has(id)).length;
    const completed = stored.filter((e) => e.status === 'completed').length;
    accepted = accepted.sort();
    const ok =
      accepted.length === opts.depth &&
      rejected === opts.submissions - opts.depth &&
      withRetryAfter === rejected &&
      lost === 0 &&
      completed === accepted.length &&
      other === 0;
    return {
      name: 'overflow',
      title: `Queue overflow: ${opts.submissions} concurrent submissions to a server with --max-queue-depth ${opts.depth} and no worker, then a restart with workers`,
      rows: [
        { metric: 'accepted (202)', crucible: accepted.length, baseline: opts.depth, note: 'baseline = configured depth' },
        { metric: 'rejected (503) / with Retry-After', crucible: `${rejected} / ${withRetryAfter}`, baseline: opts.submissions - opts.depth },
        { metric: 'batch beyond depth refused whole (503)', crucible: batchRejected ? 'yes' : 'no' },
        { metric: 'accepted → stored → completed after restart', crucible: `${accepted.length} → ${stored.length} → ${completed}`, target: 'no loss', met: ok },
      ],
      notes: other ? [`${other} responses were neither 202 nor 503`] : [],
      data: { accepted: accepted.length, rejected, withRetryAfter, other, lost, completed, batchRejected },
    };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
