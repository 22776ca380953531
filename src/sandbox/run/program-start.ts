/**
 * For a sandbox whose runtime does real work of its own before the program starts (gVisor: the
 * sentry and gofer boot in the run's cgroup, ~150-250 ms of CPU and ~20 MB), what the user is
 * told must be the program's: its CPU and memory from when its code was handed to the ready
 * sandbox, and a memory limit of exactly `memory_mb` on top of what the runtime held at that
 * moment (before, the runtime got a fixed allowance and a memory-hungry program could use what
 * the runtime left of it: 545 MB reported against a 512 MB limit).
 *
 * The moment is taken before the code is sent, not when init's "started" line is read: the
 * program cannot run before it has its code, while a busy server may read "started" after the
 * program already allocated (a 120 MB allocation was then reported as 0 bytes, the runtime's
 * baseline having swallowed it, and the program got memory_mb on top of its own allocation).
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

  /** The program's code is about to be sent: measure from here, and limit it to its own memory_mb. */
  beforeProgram(): void {
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
