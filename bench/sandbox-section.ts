/** The sandbox engineer's start-up benchmark (bench/sandbox.ts), presented as a section of the combined table. */
import { FLOOD_LINES, GVISOR_COLD, runSandboxBench, type LatencyStats } from './sandbox.js';
import type { Row, Section } from './lib/section.js';

/** Issue 10's start-up targets, per backend. */
const TARGETS: Record<string, { text: string; met: (s: LatencyStats) => boolean | undefined }> = {
  bubblewrap: { text: '≤ +6 ms median', met: (s) => (s.overhead_median_ms === null ? undefined : s.overhead_median_ms <= 6) },
  gvisor: { text: '≤ 60 ms median', met: (s) => s.median_ms <= 60 },
};

export async function sandboxSection(opts: { runs: number }): Promise<Section> {
  const r = await runSandboxBench({ runs: opts.runs });
  const bare = r.latency.bare;
  const gvisorCold = r.latency[GVISOR_COLD];
  const rows: Row[] = [];
  for (const [name, s] of Object.entries(r.latency)) {
    if (name === 'bare') continue;
    rows.push(
      {
        metric: `${name}: print(1) median / p95 (ms)`,
        crucible: `${s.median_ms} / ${s.p95_ms}`,
        baseline: bare ? `${bare.median_ms} / ${bare.p95_ms}` : '—',
        target: TARGETS[name]?.text,
        met: TARGETS[name]?.met(s),
        note:
          [
            s.overhead_median_ms === null ? null : `${s.overhead_median_ms >= 0 ? '+' : ''}${s.overhead_median_ms} ms over bare`,
            name === 'gvisor' && gvisorCold ? `each run booting its own sandbox (${GVISOR_COLD}): ${gvisorCold.median_ms} ms median` : null,
          ]
            .filter(Boolean)
            .join('; ') || undefined,
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
  const flood = r.flood_median_ms;
  for (const name of Object.keys(flood)) {
    if (name.startsWith('bare')) continue;
    rows.push({
      metric: `${name}: ${FLOOD_LINES} printed lines, median (ms)`,
      crucible: flood[name] ?? '—',
      baseline: `${flood['bare-buffered']} buffered / ${flood['bare-unbuffered']} -u`,
      note: 'bare Python buffers 8 KiB blocks (lost at a kill); Crucible writes line by line (docs/sandbox.md, "Output buffering")',
    });
  }
  return {
    name: 'sandbox',
    title: `Sandbox start-up (bench/sandbox.ts): ${r.program}, ${opts.runs} interleaved runs per backend`,
    rows,
    notes: Object.entries(r.skipped).map(([name, why]) => `${name}: skipped (${why})`),
    data: r,
  };
}
