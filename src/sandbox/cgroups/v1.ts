/**
 * cgroup v1: one hierarchy per controller (or co-mounted ones such as cpu,cpuacct), each found
 * from /proc/self/mountinfo. Memory is limited together with swap (memory.memsw.*) when the
 * kernel accounts swap, so a program cannot escape the limit by being swapped out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupDriver, CgroupEvents, CgroupLimits, CgroupUsage, SandboxCgroup } from './driver.js';
import { killProcsUntilEmpty, readKeyed, readNumber, readPids, rmdirWithBackoff, subdirectories, writeControl } from './cgroup-fs.js';

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
  private readonly mem: string;
  private readonly pidsDir: string;
  private readonly cpu: string;
  private readonly cpuacct: string;
  /** Limit currently written, to order the memory/memsw writes (memsw may never be below memory). */
  private appliedMemory = Number.POSITIVE_INFINITY;

  constructor(
    readonly relPath: string,
    mounts: Record<Controller, string>,
    hierarchies: readonly string[],
    private readonly swapAccounting: boolean,
    private readonly cfsPeriodUs: number,
  ) {
    this.joinDirs = hierarchies.map((h) => join(h, relPath));
    this.mem = join(mounts.memory, relPath);
    this.pidsDir = join(mounts.pids, relPath);
    this.cpu = join(mounts.cpu, relPath);
    this.cpuacct = join(mounts.cpuacct, relPath);
  }

  applyLimits({ memoryBytes, pidsMax, cpus }: CgroupLimits): void {
    const mem = join(this.mem, 'memory.limit_in_bytes');
    const memsw = join(this.mem, 'memory.memsw.limit_in_bytes');
    if (!this.swapAccounting) writeControl(mem, memoryBytes);
    else if (memoryBytes > this.appliedMemory) {
      writeControl(memsw, memoryBytes);
      writeControl(mem, memoryBytes);
    } else {
      writeControl(mem, memoryBytes);
      writeControl(memsw, memoryBytes);
    }
    this.appliedMemory = memoryBytes;
    writeControl(join(this.pidsDir, 'pids.max'), pidsMax);
    writeControl(join(this.cpu, 'cpu.cfs_quota_us'), Math.max(1000, Math.round(cpus * this.cfsPeriodUs)));
  }

  usage(): CgroupUsage {
    return {
      cpuNs: readNumber(join(this.cpuacct, 'cpuacct.usage')),
      memoryBytes: readNumber(join(this.mem, 'memory.usage_in_bytes')),
      peakMemoryBytes: readNumber(join(this.mem, 'memory.max_usage_in_bytes')),
      pids: readNumber(join(this.pidsDir, 'pids.current')),
    };
  }

  events(): CgroupEvents {
    return {
      oomKills: readKeyed(join(this.mem, 'memory.oom_control'), 'oom_kill'),
      pidsMaxHits: readKeyed(join(this.pidsDir, 'pids.events'), 'max'),
    };
  }

  reclaim(): void {
    // Pages cached by the last run stay charged to this cgroup. A few MB (Python's own files,
    // which the next run reads again anyway) are kept: evicting them would make every run
    // re-read them from disk. More than that is dropped so the next run starts near zero
    // (force_empty only works once the cgroup has no tasks).
    if (readNumber(join(this.mem, 'memory.usage_in_bytes')) > RECLAIM_ABOVE_BYTES) {
      writeControl(join(this.mem, 'memory.force_empty'), 0);
    }
  }

  resetAccounting(): void {
    // Writing 0 sets the high-water mark to the current usage.
    writeControl(join(this.mem, 'memory.max_usage_in_bytes'), 0);
    if (this.swapAccounting) writeControl(join(this.mem, 'memory.memsw.max_usage_in_bytes'), 0);
    writeControl(join(this.cpuacct, 'cpuacct.usage'), 0);
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
    await this.killAll();
    await Promise.all(this.joinDirs.map((d) => rmdirWithBackoff(d)));
  }
}
