/**
 * cgroup v1: one hierarchy per controller (or co-mounted ones such as cpu,cpuacct), each found
 * from /proc/self/mountinfo. Memory is limited together with swap (memory.memsw.*) when the
 * kernel accounts swap, so a program cannot escape the limit by being swapped out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupDriver, CgroupEvents, CgroupLimits, CgroupUsage, SandboxCgroup } from './driver.js';
import { ControlFile, killProcsUntilEmpty, readPids, rmdirWithBackoff, subdirectories } from './cgroup-fs.js';

const CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct'] as const;
const RECLAIM_ABOVE_BYTES = 32 * 1024 * 1024;
type Controller = (typeof CONTROLLERS)[number];

/** Mount point of each v1 controller we need, or null when one is missing. */
export function findV1Mounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): Record<Controller, string> | null {
  const found: Partial<Record<Controller, string>> = {};
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const [fstype, , superOptions] = post.split(' ');
    if (fstype !== 'cgroup' || !superOptions) continue;
    const mountPoint = pre.split(' ')[4];
    if (!mountPoint) continue;
    const options = superOptions.split(',');
    for (const c of CONTROLLERS) if (options.includes(c)) found[c] = mountPoint;
  }
  return CONTROLLERS.every((c) => found[c] !== undefined) ? (found as Record<Controller, string>) : null;
}

export class CgroupV1Driver implements CgroupDriver {
  readonly version = 'v1' as const;
  private readonly hierarchies: string[];
  readonly swapAccounting: boolean;
  private readonly cfsPeriodUs: number;

  constructor(private readonly mounts: Record<Controller, string>) {
    this.hierarchies = [...new Set(Object.values(mounts))];
    this.swapAccounting = existsSync(join(mounts.memory, 'memory.memsw.limit_in_bytes'));
    const period = Number(readFileSync(join(mounts.cpu, 'cpu.cfs_period_us'), 'utf8'));
    this.cfsPeriodUs = Number.isFinite(period) && period > 0 ? period : 100_000;
  }

  async create(relPath: string): Promise<SandboxCgroup> {
    await Promise.all(this.hierarchies.map((h) => mkdir(join(h, relPath), { recursive: true })));
    return this.open(relPath);
  }

  open(relPath: string): SandboxCgroup {
    return new CgroupV1(relPath, this.mounts, this.hierarchies, this.swapAccounting, this.cfsPeriodUs);
  }

  children(relPath: string): string[] {
    return [...new Set(this.hierarchies.flatMap((h) => subdirectories(join(h, relPath))))];
  }

  async removeDir(relPath: string): Promise<void> {
    await Promise.all(this.hierarchies.map((h) => rmdirWithBackoff(join(h, relPath), 1000)));
  }
}

class CgroupV1 implements SandboxCgroup {
  readonly joinDirs: string[];
  private readonly pidsDir: string;
  /** The control files every run touches, kept open for the pooled cgroup's life (see ControlFile). */
  private readonly files: {
    memLimit: ControlFile;
    memswLimit: ControlFile;
    pidsMax: ControlFile;
    cpuQuota: ControlFile;
    cpuUsage: ControlFile;
    memUsage: ControlFile;
    memPeak: ControlFile;
    memswPeak: ControlFile;
    pidsCurrent: ControlFile;
    oomControl: ControlFile;
    pidsEvents: ControlFile;
    forceEmpty: ControlFile;
  };
  /**
   * Limits currently written: equal values are not written again (a pooled cgroup mostly sees the
   * same limits run after run), and the memory/memsw writes are ordered by it (memsw may never be
   * below memory). Only this object writes them; a failed write leaves the value unknown.
   */
  private applied: { memory: number; memoryExact: boolean; pids: number | null; quota: number | null } = {
    memory: Number.POSITIVE_INFINITY,
    memoryExact: false,
    pids: null,
    quota: null,
  };

  constructor(
    readonly relPath: string,
    mounts: Record<Controller, string>,
    hierarchies: readonly string[],
    private readonly swapAccounting: boolean,
    private readonly cfsPeriodUs: number,
  ) {
    this.joinDirs = hierarchies.map((h) => join(h, relPath));
    const mem = (file: string, writable = false) => new ControlFile(join(mounts.memory, relPath, file), writable);
    this.pidsDir = join(mounts.pids, relPath);
    this.files = {
      memLimit: mem('memory.limit_in_bytes', true),
      memswLimit: mem('memory.memsw.limit_in_bytes', true),
      pidsMax: new ControlFile(join(this.pidsDir, 'pids.max'), true),
      cpuQuota: new ControlFile(join(mounts.cpu, relPath, 'cpu.cfs_quota_us'), true),
      cpuUsage: new ControlFile(join(mounts.cpuacct, relPath, 'cpuacct.usage'), true),
      memUsage: mem('memory.usage_in_bytes'),
      memPeak: mem('memory.max_usage_in_bytes', true),
      memswPeak: mem('memory.memsw.max_usage_in_bytes', true),
      pidsCurrent: new ControlFile(join(this.pidsDir, 'pids.current')),
      oomControl: mem('memory.oom_control'),
      pidsEvents: new ControlFile(join(this.pidsDir, 'pids.events')),
      forceEmpty: mem('memory.force_empty', true),
    };
  }

  applyLimits({ memoryBytes, pidsMax, cpus }: CgroupLimits): void {
    const { files, applied } = this;
    if (memoryBytes !== applied.memory || !applied.memoryExact) {
      // Inexact until both writes succeed (after a failure both are written again; the old value
      // still orders them, as the best guess of what the kernel holds).
      applied.memoryExact = false;
      if (!this.swapAccounting) files.memLimit.write(memoryBytes);
      else if (memoryBytes > applied.memory) {
        files.memswLimit.write(memoryBytes);
        files.memLimit.write(memoryBytes);
      } else {
        files.memLimit.write(memoryBytes);
        files.memswLimit.write(memoryBytes);
      }
      applied.memory = memoryBytes;
      applied.memoryExact = true;
    }
    if (pidsMax !== applied.pids) {
      applied.pids = null;
      files.pidsMax.write(pidsMax);
      applied.pids = pidsMax;
    }
    const quota = Math.max(1000, Math.round(cpus * this.cfsPeriodUs));
    if (quota !== applied.quota) {
      applied.quota = null;
      files.cpuQuota.write(quota);
      applied.quota = quota;
    }
  }

  usage(): CgroupUsage {
    const { files } = this;
    return {
      cpuNs: files.cpuUsage.readNumber(),
      memoryBytes: files.memUsage.readNumber(),
      peakMemoryBytes: files.memPeak.readNumber(),
      pids: files.pidsCurrent.readNumber(),
    };
  }

  events(): CgroupEvents {
    return {
      oomKills: this.files.oomControl.readKeyed('oom_kill'),
      pidsMaxHits: this.files.pidsEvents.readKeyed('max'),
    };
  }

  reclaim(): void {
    // Pages cached by the last run stay charged to this cgroup. A few MB (Python's own files,
    // which the next run reads again anyway) are kept: evicting them would make every run
    // re-read them from disk. More than that is dropped so the next run starts near zero
    // (force_empty only works once the cgroup has no tasks).
    if (this.files.memUsage.readNumber() > RECLAIM_ABOVE_BYTES) this.files.forceEmpty.write(0);
  }

  resetAccounting(): void {
    // Writing 0 sets the high-water mark to the current usage.
    this.files.memPeak.write(0);
    if (this.swapAccounting) this.files.memswPeak.write(0);
    this.files.cpuUsage.write(0);
  }

  pids(): number[] {
    return readPids(join(this.pidsDir, 'cgroup.procs'));
  }

  killAll(sparePid?: number): Promise<boolean> {
    return killProcsUntilEmpty(
      this.joinDirs.map((d) => join(d, 'cgroup.procs')),
      sparePid,
    );
  }

  async remove(): Promise<void> {
    for (const file of Object.values(this.files)) file.close();
    await this.killAll();
    await Promise.all(this.joinDirs.map((d) => rmdirWithBackoff(d)));
  }
}
