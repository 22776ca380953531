/**
 * Sandboxes started ahead of time. Moving a process into a cgroup v1 hierarchy waits for an RCU
 * grace period (~10 ms here), and bwrap's namespace and mount set-up costs a few more ms; a warm
 * sandbox has done all of that and waits, fully isolated, in crucible-init for its program's
 * code. Each warm sandbox serves exactly one run (nothing is shared between runs); it is only
 * started earlier. Sandboxes are keyed by what must be fixed at set-up time (e.g. the scratch
 * size); runs with another key start cold, and the pool then warms up for the newest key.
 */
import { BackgroundTasks } from '../background-tasks.js';
import type { CgroupPool } from '../cgroups/pool.js';
import type { SandboxCgroup } from '../cgroups/driver.js';
import type { Launch } from './launch.js';

export interface WarmSandbox {
  key: string;
  launch: Launch;
  cgroup: SandboxCgroup;
}

/** After this many sandboxes in a row fail to get ready, warming pauses (cold runs report why). */
const MAX_CONSECUTIVE_FAILURES = 3;
const FAILURE_PAUSE_MS = 30_000;

export class WarmPool {
  private readonly idle: WarmSandbox[] = [];
  private starting = 0;
  private failures = 0;
  private pausedUntil = 0;
  private closed = false;
  private preferredKey: string | null = null;
  private readonly background = new BackgroundTasks();

  constructor(
    private readonly cgroups: CgroupPool,
    /** Starts a sandbox for `key` in `cgroup`. */
    private readonly start: (key: string, cgroup: SandboxCgroup) => Launch,
    /** Releases a finished sandbox's cgroup. */
    private readonly retire: (sandbox: WarmSandbox) => Promise<void>,
    private readonly target = 2,
    private readonly capacity = 4,
  ) {}

  /** Sandboxes ready for a program now. */
  get ready(): number {
    return this.idle.filter((s) => s.launch.alive).length;
  }

  /**
   * A ready sandbox for `key`, or null (the caller starts one cold). Starting a replacement means
   * a synchronous spawn in this process plus a few ms of CPU: while another ready sandbox is left
   * it waits until the run ends (see runEnded), so it does not compete with the program that is
   * just starting; otherwise it starts now, for the next concurrent run.
   */
  take(key: string): WarmSandbox | null {
    this.preferredKey = key;
    const i = this.idle.findIndex((s) => s.key === key && s.launch.alive);
    const sandbox = i >= 0 ? this.idle.splice(i, 1)[0]! : null;
    if (!this.idle.some((s) => s.key === key && s.launch.alive)) void this.refill();
    return sandbox;
  }

  /** A run finished: top the pool up again, once its result has been handed over. */
  runEnded(): void {
    setImmediate(() => void this.refill());
  }

  /** Starts sandboxes for `key` until `target` are ready or starting. */
  warm(key: string): Promise<void> {
    this.preferredKey = key;
    return this.refill();
  }

  private refill(): Promise<void> {
    const key = this.preferredKey;
    const started: Promise<unknown>[] = [];
    if (key === null || this.closed || Date.now() < this.pausedUntil) return Promise.resolve();
    let forKey = this.idle.filter((s) => s.key === key).length;
    while (forKey + this.starting < this.target) {
      forKey++;
      started.push(this.background.track(this.startOne(key)));
    }
    return Promise.all(started).then(() => undefined);
  }

  private async startOne(key: string): Promise<void> {
    this.starting++;
    let sandbox: WarmSandbox | null = null;
    try {
      const cgroup = await this.cgroups.acquire();
      sandbox = { key, cgroup, launch: this.start(key, cgroup) };
      const ready = await sandbox.launch.ready;
      if (!ready || this.closed) throw new Error('not ready');
      this.failures = 0;
      this.idle.push(sandbox);
      const entry = sandbox;
      // One that dies while waiting (killed from outside) is dropped and its cgroup retired.
      void entry.launch.done.then(() => this.drop(entry));
      this.evictBeyondCapacity();
    } catch {
      if (!this.closed && ++this.failures >= MAX_CONSECUTIVE_FAILURES) this.pausedUntil = Date.now() + FAILURE_PAUSE_MS;
      if (sandbox) await this.retire(sandbox);
    } finally {
      this.starting--;
    }
  }

  private drop(sandbox: WarmSandbox): void {
    const i = this.idle.indexOf(sandbox);
    if (i < 0) return; // taken by a run, which retires it
    this.idle.splice(i, 1);
    this.background.track(this.retire(sandbox));
  }

  private evictBeyondCapacity(): void {
    while (this.idle.length > this.capacity) {
      const i = this.idle.findIndex((s) => s.key !== this.preferredKey);
      const [old] = this.idle.splice(i >= 0 ? i : 0, 1);
      if (old) this.background.track(this.retire(old));
    }
  }

  /** Kills every waiting sandbox and waits until they are gone. */
  async close(): Promise<void> {
    this.closed = true;
    await this.background.drain();
    const idle = this.idle.splice(0);
    await Promise.allSettled(idle.map((s) => this.retire(s)));
  }
}
