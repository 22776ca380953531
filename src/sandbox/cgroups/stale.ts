/**
 * Removes cgroups left behind by Crucible server processes that died without cleaning up
 * (SIGKILL, crash, power loss of a VM snapshot): kills every process still in them, then
 * removes the directories. Instances of live servers are never touched.
 */
import type { CgroupDriver } from './driver.js';
import { CGROUP_ROOT_NAME, isInstanceOwnerAlive } from './ownership.js';

export async function cleanupStaleCgroups(driver: CgroupDriver): Promise<string[]> {
  const removed: string[] = [];
  for (const instance of driver.children(CGROUP_ROOT_NAME)) {
    if (isInstanceOwnerAlive(instance)) continue;
    const instancePath = `${CGROUP_ROOT_NAME}/${instance}`;
    for (const child of driver.children(instancePath)) {
      try {
        await driver.open(`${instancePath}/${child}`).remove();
        removed.push(`${instancePath}/${child}`);
      } catch {
        // keep going; the next start-up retries
      }
    }
    await driver.removeDir(instancePath).catch(() => undefined);
  }
  return removed;
}
