/**
 * Picks the cgroup driver at start-up. The controllers we need (memory, pids, cpu) can be bound
 * to only one version at a time, so whichever hierarchy holds them wins: v1 when they are
 * mounted as v1 hierarchies (an empty cgroup2 next to them, as on hybrid systems, is ignored),
 * else the unified v2 hierarchy.
 */
import type { CgroupDriver } from './driver.js';
import { CgroupV1Driver, findV1Mounts } from './v1.js';
import { CgroupV2Driver, isUsableV2Root } from './v2.js';

export type CgroupDetection = { driver: CgroupDriver; error: null } | { driver: null; error: string };

export function detectCgroupDriver(): CgroupDetection {
  try {
    const v1 = findV1Mounts();
    if (v1) return { driver: new CgroupV1Driver(v1), error: null };
    if (isUsableV2Root('/sys/fs/cgroup')) return { driver: new CgroupV2Driver('/sys/fs/cgroup'), error: null };
    return {
      driver: null,
      error: 'no cgroup hierarchy with the memory, pids and cpu controllers was found (need cgroup v1 mounts or cgroup v2 at /sys/fs/cgroup with them enabled)',
    };
  } catch (err) {
    return { driver: null, error: `cgroup detection failed: ${(err as Error).message}` };
  }
}
