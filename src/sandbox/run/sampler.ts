/** Periodic live resource samples of a running sandbox, read from its cgroup. */
import type { MetricsSample } from '../../domain/events.js';
import type { SandboxCgroup } from '../cgroups/driver.js';

export function startSampler(cgroup: SandboxCgroup, startedAt: number, intervalMs: number, onSample: (sample: MetricsSample) => void): () => void {
  const timer = setInterval(() => {
    try {
      const u = cgroup.usage();
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
