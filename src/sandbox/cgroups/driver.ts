/**
 * What the sandbox needs from Linux control groups, independent of the cgroup version. One
 * SandboxCgroup is the set of directories (one per mounted hierarchy) that a single sandbox runs
 * in; the launcher joins all of them before starting anything, so every process of the sandbox
 * is limited and accounted from its first instruction.
 */

export interface CgroupLimits {
  memoryBytes: number;
  pidsMax: number;
  /** CPU share in CPUs (CFS quota / period). */
  cpus: number;
}

export interface CgroupUsage {
  /** CPU time of every process that ran in the cgroup since the last reset, in nanoseconds. */
  cpuNs: number;
  memoryBytes: number;
  /** High-water mark of memory since the last reset. */
  peakMemoryBytes: number;
  pids: number;
}

/** Cumulative kernel counters; compare two snapshots to know what happened during a run. */
export interface CgroupEvents {
  oomKills: number;
  pidsMaxHits: number;
}

export interface SandboxCgroup {
  /** Path relative to the driver's root, e.g. crucible/p123-456/s7 */
  readonly relPath: string;
  /** Absolute directories the launcher must join, one per hierarchy. */
  readonly joinDirs: readonly string[];
  applyLimits(limits: CgroupLimits): void;
  usage(): CgroupUsage;
  events(): CgroupEvents;
  /** Zeroes peak memory and CPU accounting: what is measured afterwards belongs to the next program. */
  resetAccounting(): void;
  /** Drops pages still charged to the (empty) cgroup from an earlier run, before reuse. */
  reclaim(): void;
  /** Pids of every process in the cgroup. */
  pids(): number[];
  /** SIGKILLs every process in the cgroup (except `sparePid`) until none is left; false if some survived. */
  killAll(sparePid?: number): Promise<boolean>;
  /** Kills what is left and removes the directories, retrying while the kernel reports busy. */
  remove(): Promise<void>;
}

export interface CgroupDriver {
  readonly version: 'v1' | 'v2';
  /** Creates the cgroup (and missing parents) in every hierarchy. */
  create(relPath: string): Promise<SandboxCgroup>;
  /** A handle on an existing cgroup, for clean-up. */
  open(relPath: string): SandboxCgroup;
  /** Names of the child cgroups of relPath found in any hierarchy. */
  children(relPath: string): string[];
  /** Removes an empty intermediate directory in every hierarchy (ignores absent ones). */
  removeDir(relPath: string): Promise<void>;
}
