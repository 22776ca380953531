/**
 * Pre-created cgroups, so that creating and removing directories (several ms in the memory
 * controller) stays off each run's critical path. A run takes an idle cgroup; after the result
 * is delivered the cgroup is emptied and its cached pages reclaimed in the background, then it
 * goes back to the pool. A cgroup that cannot be emptied is never reused: it is removed (with
 * retries) instead.
 */
import { BackgroundTasks } from '../background-tasks.js';
import { rmdirSync } from 'node:fs';
import type { CgroupDriver, SandboxCgroup } from './driver.js';
import { CGROUP_ROOT_NAME, ownInstanceName } from './ownership.js';

let nextSlot = 0;

export class CgroupPool {
  private readonly idle: SandboxCgroup[] = [];
  private readonly background = new BackgroundTasks();
  private creating = 0;
  private closed = false;
  readonly parent: string;
  private readonly onExit = () => this.removeIdleSync();

  constructor(
    private readonly driver: CgroupDriver,
    private readonly prefix: string,
    private readonly idleTarget = 2,
  ) {
    this.parent = `${CGROUP_ROOT_NAME}/${ownInstanceName()}`;
    process.on('exit', this.onExit);
  }

  /** Fills the pool in the background; await it to have cgroups ready before the first run. */
  warm(): Promise<void> {
    const fills: Promise<unknown>[] = [];
    while (!this.closed && this.idle.length + this.creating < this.idleTarget) fills.push(this.background.track(this.createOne()));
    return Promise.all(fills).then(() => undefined);
  }

  async acquire(): Promise<SandboxCgroup> {
    if (this.closed) throw new Error('the sandbox backend was closed');
    let cgroup = this.idle.pop();
    if (!cgroup) {
      await this.createOne();
      cgroup = this.idle.pop();
      if (!cgroup) throw new Error('could not create a cgroup for the sandbox');
    }
    void this.warm().catch(() => undefined);
    return cgroup;
  }

  /** Returns a cgroup after its run; emptying and reclaiming happen in the background. */
  release(cgroup: SandboxCgroup): void {
    this.background.track(this.recycle(cgroup));
  }

  private async recycle(cgroup: SandboxCgroup): Promise<void> {
    try {
      const empty = await cgroup.killAll();
      if (!empty || this.closed) throw new Error('not reusable');
      cgroup.reclaim();
      this.idle.push(cgroup);
    } catch {
      await cgroup.remove().catch(() => undefined);
    }
  }

  private async createOne(): Promise<void> {
    this.creating++;
    try {
      const cgroup = await this.driver.create(`${this.parent}/${this.prefix}-${nextSlot++}`);
      if (this.closed) await cgroup.remove();
      else this.idle.push(cgroup);
    } finally {
      this.creating--;
    }
  }

  /** Waits for background work, removes every idle cgroup and, if nothing else uses it, this server's directory. */
  async close(): Promise<void> {
    this.closed = true;
    await this.background.drain();
    const idle = this.idle.splice(0);
    await Promise.allSettled(idle.map((c) => c.remove()));
    await this.driver.removeDir(this.parent).catch(() => undefined); // busy while another backend still uses it
    process.off('exit', this.onExit);
  }

  /** Last-chance clean-up when the process exits without close(): idle cgroups are empty, so rmdir is enough. */
  private removeIdleSync(): void {
    for (const c of this.idle) {
      for (const dir of c.joinDirs) {
        try {
          rmdirSync(dir);
        } catch {
          // best effort
        }
      }
    }
  }
}
