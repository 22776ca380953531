/** Live CPU and memory of a run, from its `metrics` samples (CPU as cores used, memory against the limit). */
import type { MetricsSample } from '../../../src/domain/events';
import { cpuRate } from '../lib/run-state';
import { formatBytes } from '../lib/format';
import { LineChart } from './LineChart';

interface Props {
  samples: readonly MetricsSample[];
  memoryLimitMb: number | null;
  cpus: number | null;
  /** Still running: no samples yet means they are on their way. */
  running: boolean;
  /** Wall time of a finished run, so the time axis spans the whole run. */
  endMs: number | null;
}

/** Phone-width screens (the layout's one-column breakpoint). */
export const NARROW_SCREEN = () => typeof window !== 'undefined' && window.matchMedia('(max-width: 640px)').matches;

/** 0 → "0 s", 300 → "0.3 s", 12_000 → "12 s": sub-second runs need the decimal, long ones do not. */
const seconds = (ms: number) => (ms === 0 ? '0 s' : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`);

export function RunMetrics({ samples, memoryLimitMb, cpus, running, endMs }: Props) {
  // Samples count from the sandbox's start; the axis does too, up to the end of a finished run.
  const xDomain = [0, endMs ?? 0] as const;
  const emptyText = running ? 'Waiting for samples…' : 'The run ended before its first sample';
  const cpu = cpuRate(samples);
  const mem = samples.map((s) => [s.elapsed_ms, s.memory_bytes] as const);
  const latest = samples[samples.length - 1];
  const peakMem = samples.reduce((m, s) => Math.max(m, s.memory_bytes), 0);
  const lastCpu = cpu[cpu.length - 1];
  return (
    // Collapsible: on a phone the charts start folded so the verdict and output come first.
    <details className="metrics-details" open={!NARROW_SCREEN()} data-testid="run-metrics-toggle">
      <summary>
        Charts <span className="muted small">CPU and memory over time</span>
      </summary>
      <div className="metrics-grid" data-testid="run-metrics">
        <LineChart
          title={`CPU${lastCpu ? ` · ${lastCpu.cores.toFixed(2)} cores` : ''}`}
          series={[{ label: 'CPU', color: 'var(--chart-cpu)', points: cpu.map((p) => [p.elapsed_ms, p.cores] as const) }]}
          formatY={(v) => v.toFixed(v < 1 ? 2 : 1)}
          formatX={seconds}
          xDomain={xDomain}
          emptyText={emptyText}
          minYMax={Math.min(1, cpus ?? 1)}
          refLine={cpus ? { value: cpus, label: `limit ${cpus} CPU` } : undefined}
          summary={lastCpu ? `now ${lastCpu.cores.toFixed(2)} cores` : 'no samples yet'}
        />
        <LineChart
          title={`Memory${latest ? ` · ${formatBytes(latest.memory_bytes)}` : ''}${latest && latest.pids !== undefined ? ` · ${latest.pids} pids` : ''}`}
          series={[{ label: 'Memory', color: 'var(--chart-mem)', points: mem }]}
          formatY={(v) => formatBytes(v)}
          formatX={seconds}
          xDomain={xDomain}
          emptyText={emptyText}
          minYMax={16 * 1024 * 1024}
          refLine={memoryLimitMb ? { value: memoryLimitMb * 1024 * 1024, label: `limit ${formatBytes(memoryLimitMb * 1024 * 1024)}` } : undefined}
          summary={latest ? `now ${formatBytes(latest.memory_bytes)}, peak ${formatBytes(peakMem)}` : 'no samples yet'}
        />
      </div>
    </details>
  );
}
