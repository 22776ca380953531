/** Periodic live resource samples of a running sandbox, read from its cgroup. */
import type { MetricsSample } from '../../domain/events.js';
import type { CgroupUsage } from '../cgroups/driver.js';

/** `usage` reads the program's figures (its cgroup's, less a runtime's own memory where it has one). */
export function startSampler(usage: () => CgroupUsage, startedAt: number, intervalMs: number, onSample: (sample: MetricsSample) => void): () => void {
  const timer = setInterval(() => {
    try {
      const u = usage();
      onSample({
        elapsed_ms: Math.round(performance.now() - startedAt),
        cpu_ms: Math.round(u.cpuNs / 1e6),
        memory_bytes: u.memoryBytes,
        pids: u.pids,
      });
    } catch {
      // the cgroup is being torn down: the run is ending anyway
    }
  }, intervalMs);
  return () => clearInterval(timer);
}
