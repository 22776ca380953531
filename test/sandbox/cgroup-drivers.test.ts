/**
 * The cgroup drivers' file protocol, against a fake cgroup tree in a temp dir (the v2 driver
 * cannot run for real on these cgroup-v1 machines), plus v1 mount discovery.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CgroupV2Driver, isUsableV2Root } from '../../src/sandbox/cgroups/v2.js';
import { findV1Mounts } from '../../src/sandbox/cgroups/v1.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('cgroup v2 driver (fake tree)', () => {
  it('writes limits, delegates controllers and reads counters as deltas', async () => {
    root = mkdtempSync(join(tmpdir(), 'crucible-fake-cgroup2-'));
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    expect(isUsableV2Root(root)).toBe(true);
    const driver = new CgroupV2Driver(root);
    const cg = await driver.create('crucible/p1-2/s0');
    const dir = join(root, 'crucible/p1-2/s0');
    expect(cg.joinDirs).toEqual([dir]);
    expect(readFileSync(join(root, 'crucible/cgroup.subtree_control'), 'utf8')).toBe('+memory +pids +cpu');

    writeFileSync(join(dir, 'memory.swap.max'), 'max\n');
    cg.applyLimits({ memoryBytes: 64 << 20, pidsMax: 19, cpus: 0.5 });
    expect(readFileSync(join(dir, 'memory.max'), 'utf8')).toBe(String(64 << 20));
    expect(readFileSync(join(dir, 'memory.swap.max'), 'utf8')).toBe('0');
    expect(readFileSync(join(dir, 'pids.max'), 'utf8')).toBe('19');
    expect(readFileSync(join(dir, 'cpu.max'), 'utf8')).toBe('50000 100000');

    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 5000\nuser_usec 4000\n');
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    writeFileSync(join(dir, 'pids.events'), 'max 2\n');
    cg.resetAccounting();
    const before = cg.events();
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 12000\n');
    writeFileSync(join(dir, 'memory.current'), '1048576\n');
    writeFileSync(join(dir, 'pids.current'), '4\n');
    writeFileSync(join(dir, 'memory.events'), 'oom_kill 2\n');
    const usage = cg.usage();
    expect(usage.cpuNs).toBe(7_000_000);
    expect(usage.memoryBytes).toBe(1048576);
    expect(usage.pids).toBe(4);
    expect(usage.peakMemoryBytes).toBe(1048576); // no memory.peak in this fake kernel: current usage
    expect(cg.events().oomKills - before.oomKills).toBe(1);
    expect(cg.events().pidsMaxHits - before.pidsMaxHits).toBe(0);
    expect(driver.children('crucible/p1-2')).toEqual(['s0']);
  });

  it('is not usable without the memory, pids and cpu controllers', () => {
    root = mkdtempSync(join(tmpdir(), 'crucible-fake-cgroup2-'));
    writeFileSync(join(root, 'cgroup.controllers'), 'cpu io\n');
    expect(isUsableV2Root(root)).toBe(false);
  });
});

describe('cgroup v1 mount discovery', () => {
  it('finds separate and co-mounted controllers, and refuses when one is missing', () => {
    root = mkdtempSync(join(tmpdir(), 'crucible-unused-'));
    const line = (id: number, mount: string, opts: string) => `${id} 23 0:${id} / ${mount} rw,relatime - cgroup cgroup rw,${opts}`;
    const hybrid = [
      line(32, '/sys/fs/cgroup/cpu,cpuacct', 'cpu,cpuacct'),
      line(35, '/sys/fs/cgroup/memory', 'memory'),
      line(39, '/sys/fs/cgroup/pids', 'pids'),
      '41 23 0:41 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
    ].join('\n');
    expect(findV1Mounts(hybrid)).toEqual({
      memory: '/sys/fs/cgroup/memory',
      pids: '/sys/fs/cgroup/pids',
      cpu: '/sys/fs/cgroup/cpu,cpuacct',
      cpuacct: '/sys/fs/cgroup/cpu,cpuacct',
    });
    expect(
      findV1Mounts(
        hybrid
          .split('\n')
          .filter((l) => !l.includes('pids'))
          .join('\n'),
      ),
    ).toBeNull();
  });
});
