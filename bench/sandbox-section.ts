/** The sandbox engineer's start-up benchmark (bench/sandbox.ts), presented as a section of the combined table. */
import { runSandboxBench } from './sandbox.js';
import type { Row, Section } from './lib/section.js';

export async function sandboxSection(opts: { runs: number }): Promise<Section> {
  const r = await runSandboxBench({ runs: opts.runs });
  const bare = r.latency.bare;
  const rows: Row[] = [];
  for (const [name, s] of Object.entries(r.latency)) {
    if (name === 'bare') continue;
    rows.push(
      {
        metric: `${name}: print(1) median / p95 (ms)`,
        crucible: `${s.median_ms} / ${s.p95_ms}`,
        baseline: bare ? `${bare.median_ms} / ${bare.p95_ms}` : '—',
        target: name === 'bubblewrap' ? '≤ +6 ms median' : undefined,
        met: name === 'bubblewrap' && s.overhead_median_ms !== null ? s.overhead_median_ms <= 6 : undefined,
        note: s.overhead_median_ms === null ? undefined : `${s.overhead_median_ms >= 0 ? '+' : ''}${s.overhead_median_ms} ms over bare`,
      },
      {
        metric: `${name}: runs/s, 2 in parallel`,
        crucible: r.throughput_2_parallel[name] ?? '—',
        baseline: r.throughput_2_parallel.bare ?? '—',
        ratio:
          r.throughput_2_parallel.bare && r.throughput_2_parallel[name]
            ? Math.round((r.throughput_2_parallel[name]! / r.throughput_2_parallel.bare) * 100) / 100
            : undefined,
      },
    );
  }
  return {
    name: 'sandbox',
    title: `Sandbox start-up (bench/sandbox.ts): ${r.program}, ${opts.runs} interleaved runs per backend`,
    rows,
    notes: Object.entries(r.skipped).map(([name, why]) => `${name}: skipped (${why})`),
    data: r,
  };
}
