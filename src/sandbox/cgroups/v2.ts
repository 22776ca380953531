/**
 * cgroup v2 (unified hierarchy at /sys/fs/cgroup). Needs memory, pids and cpu enabled in the
 * root's subtree_control; intermediate directories get them delegated on creation.
 *
 * Not exercised on the development machines (cgroup v1 there): kept deliberately small and
 * written against the kernel's cgroup-v2 documentation. Differences from v1: swap is forbidden
 * with memory.swap.max = 0; the whole cgroup is killed atomically with cgroup.kill; memory.peak
 * and cpu.stat cannot be zeroed globally, so the peak is reset per open file (kernel >= 6.12;
 * older kernels report the cgroup's lifetime peak) and CPU is measured as a delta.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupDriver, CgroupEvents, CgroupLimits, CgroupUsage, SandboxCgroup } from './driver.js';
import { killProcsUntilEmpty, readKeyed, readNumber, readPids, rmdirWithBackoff, subdirectories, writeControl } from './cgroup-fs.js';

const NEEDED = ['memory', 'pids', 'cpu'];
const CPU_PERIOD_US = 100_000;

export function isUsableV2Root(root: string): boolean {
  try {
    const enabled = readFileSync(join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    return NEEDED.every((c) => enabled.includes(c));
  } catch {
    return false;
  }
}

export class CgroupV2Driver implements CgroupDriver {
  readonly version = 'v2' as const;
  private readonly delegated = new Set<string>();

  constructor(private readonly root = '/sys/fs/cgroup') {}

  async create(relPath: string): Promise<SandboxCgroup> {
    const parts = relPath.split('/').filter(Boolean);
    // Each ancestor must hand the controllers down before the child can use them.
    let dir = this.root;
    for (const part of parts) {
      if (!this.delegated.has(dir)) {
        try {
          writeControl(join(dir, 'cgroup.subtree_control'), NEEDED.map((c) => `+${c}`).join(' '));
        } catch {
          // already delegated, or refused; the limit writes below will tell
        }
        this.delegated.add(dir);
      }
      dir = join(dir, part);
      await mkdir(dir, { recursive: true });
    }
    return this.open(relPath);
  }

  open(relPath: string): SandboxCgroup {
    return new CgroupV2(relPath, join(this.root, relPath));
  }

  children(relPath: string): string[] {
    return subdirectories(join(this.root, relPath));
  }

  removeDir(relPath: string): Promise<void> {
    return rmdirWithBackoff(join(this.root, relPath), 1000);
  }
}

class CgroupV2 implements SandboxCgroup {
  readonly joinDirs: string[];
  private cpuBaselineUs = 0;
  private peakFd: number | null = null;

  constructor(
    readonly relPath: string,
    private readonly dir: string,
  ) {
    this.joinDirs = [dir];
  }

  applyLimits({ memoryBytes, pidsMax, cpus }: CgroupLimits): void {
    writeControl(join(this.dir, 'memory.max'), memoryBytes);
    if (existsSync(join(this.dir, 'memory.swap.max'))) writeControl(join(this.dir, 'memory.swap.max'), 0);
    writeControl(join(this.dir, 'pids.max'), pidsMax);
    writeControl(join(this.dir, 'cpu.max'), `${Math.max(1000, Math.round(cpus * CPU_PERIOD_US))} ${CPU_PERIOD_US}`);
  }

  private cpuUsageUs(): number {
    return readKeyed(join(this.dir, 'cpu.stat'), 'usage_usec');
  }

  private peak(): number {
    if (this.peakFd !== null) {
      const buf = Buffer.alloc(32);
      const n = readSync(this.peakFd, buf, 0, buf.length, 0);
      return Number(buf.subarray(0, n).toString().trim());
    }
    try {
      return readNumber(join(this.dir, 'memory.peak'));
    } catch {
      return readNumber(join(this.dir, 'memory.current')); // kernel < 5.19: no peak file at all
    }
  }

  usage(): CgroupUsage {
    return {
      cpuNs: (this.cpuUsageUs() - this.cpuBaselineUs) * 1000,
      memoryBytes: readNumber(join(this.dir, 'memory.current')),
      peakMemoryBytes: this.peak(),
      pids: readNumber(join(this.dir, 'pids.current')),
    };
  }

  events(): CgroupEvents {
    return {
      oomKills: readKeyed(join(this.dir, 'memory.events'), 'oom_kill'),
      pidsMaxHits: readKeyed(join(this.dir, 'pids.events'), 'max'),
    };
  }

  reclaim(): void {
    try {
      writeControl(join(this.dir, 'memory.reclaim'), '1G');
    } catch {
      // nothing to reclaim, or an older kernel
    }
  }

  resetAccounting(): void {
    this.cpuBaselineUs = this.cpuUsageUs();
    this.closePeak();
    try {
      const fd = openSync(join(this.dir, 'memory.peak'), 'r+');
      try {
        writeSync(fd, 'reset\n');
        this.peakFd = fd;
      } catch {
        closeSync(fd); // kernel without per-fd peak reset
      }
    } catch {
      // no memory.peak at all (kernel < 5.19): the current usage stands in for the peak
    }
  }

  private closePeak(): void {
    if (this.peakFd !== null) closeSync(this.peakFd);
    this.peakFd = null;
  }

  pids(): number[] {
    return readPids(join(this.dir, 'cgroup.procs'));
  }

  async killAll(sparePid?: number): Promise<boolean> {
    if (sparePid === undefined && existsSync(join(this.dir, 'cgroup.kill'))) {
      try {
        writeControl(join(this.dir, 'cgroup.kill'), 1);
      } catch {
        // fall through to the per-process loop
      }
    }
    return killProcsUntilEmpty([join(this.dir, 'cgroup.procs')], sparePid);
  }

  async remove(): Promise<void> {
    this.closePeak();
    await this.killAll();
    await rmdirWithBackoff(this.dir);
  }
}
