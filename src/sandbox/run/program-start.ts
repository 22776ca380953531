/**
 * For a sandbox whose runtime does real work of its own before the program starts (gVisor: the
 * sentry and gofer boot in the run's cgroup, ~150-250 ms of CPU and ~20 MB), what the user is
 * told must be the program's: its time from when crucible-init started it, its CPU and memory
 * from then on, and a memory limit of exactly `memory_mb` on top of what the runtime held at
 * that moment (before, the runtime got a fixed allowance and a memory-hungry program could use
 * what the runtime left of it: 545 MB reported against a 512 MB limit).
 */
import type { CgroupLimits, CgroupUsage, SandboxCgroup } from '../cgroups/driver.js';

export class ProgramStartAccounting {
  /** Memory the runtime held when the program started (not the program's). */
  private baselineBytes = 0;

  constructor(
    private readonly cgroup: SandboxCgroup,
    /** What the runner applied for the run (limit + the runtime's allowance). */
    private readonly applied: CgroupLimits,
    private readonly programMemoryBytes: number,
  ) {}

  /** The program was just started: measure from here, and limit it to its own memory_mb. */
  programStarted(): void {
    try {
      const before: CgroupUsage = this.cgroup.usage();
      this.cgroup.resetAccounting();
      this.baselineBytes = before.memoryBytes;
      const memoryBytes = Math.min(this.applied.memoryBytes, this.baselineBytes + this.programMemoryBytes);
      this.cgroup.applyLimits({ ...this.applied, memoryBytes });
    } catch {
      // the sandbox is already going away; its metrics are whatever the cgroup says
    }
  }

  /** Usage of the program alone: the runtime's memory at start taken out of the peak. */
  programUsage(usage: CgroupUsage): CgroupUsage {
    const peak = Math.max(0, usage.peakMemoryBytes - this.baselineBytes);
    return { ...usage, peakMemoryBytes: peak, memoryBytes: Math.max(0, usage.memoryBytes - this.baselineBytes) };
  }
}
