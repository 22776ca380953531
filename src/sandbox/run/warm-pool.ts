/**
 * Sandboxes started ahead of time. Moving a process into a cgroup v1 hierarchy waits for an RCU
 * grace period (~10 ms here), and bwrap's namespace and mount set-up costs a few more ms; a warm
 * sandbox has done all of that and waits, fully isolated, in crucible-init for its program's
 * code. Each warm sandbox serves exactly one run (nothing is shared between runs); it is only
 * started earlier. Sandboxes are keyed by what must be fixed at set-up time (e.g. the environment
 * and the scratch size); runs with another key start cold, and the pool then warms up for the
 * newest key of that key's group (e.g. its environment): each group keeps its own warm sandboxes.
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
  /** Sandboxes being started, per key. */
  private readonly starting = new Map<string, number>();
  private failures = 0;
  private pausedUntil = 0;
  private closed = false;
  /** Per group, the key most recently asked for: the one kept warm. */
  private readonly preferred = new Map<string, string>();
  private readonly background = new BackgroundTasks();

  constructor(
    private readonly cgroups: CgroupPool,
    /** Starts a sandbox for `key` in `cgroup` (after the backend's own preparation, if any). */
    private readonly start: (key: string, cgroup: SandboxCgroup) => Launch | Promise<Launch>,
    /** Releases a finished sandbox's cgroup. */
    private readonly retire: (sandbox: WarmSandbox) => Promise<void>,
    /** Warm sandboxes per group. */
    private readonly target = 2,
    /** Most idle sandboxes per group (never fewer than `target`, or warming would evict its own). */
    private readonly capacity = Math.max(4, target),
    private readonly groupOf: (key: string) => string = () => '',
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
    this.preferred.set(this.groupOf(key), key);
    const i = this.idle.findIndex((s) => s.key === key && s.launch.alive);
    const sandbox = i >= 0 ? this.idle.splice(i, 1)[0]! : null;
    if (!this.idle.some((s) => s.key === key && s.launch.alive)) void this.refillKey(key);
    return sandbox;
  }

  /** A run finished: top the pool up again, once its result has been handed over. */
  runEnded(): void {
    setImmediate(() => void this.refill());
  }

  /** Starts sandboxes for `key` until `target` are ready or starting. */
  warm(key: string): Promise<void> {
    this.preferred.set(this.groupOf(key), key);
    return this.refillKey(key);
  }

  /** Tops up every group's preferred key. */
  private refill(): Promise<void> {
    return Promise.all([...this.preferred.values()].map((key) => this.refillKey(key))).then(() => undefined);
  }

  private refillKey(key: string): Promise<void> {
    const started: Promise<unknown>[] = [];
    if (this.closed || Date.now() < this.pausedUntil) return Promise.resolve();
    let forKey = this.idle.filter((s) => s.key === key).length + (this.starting.get(key) ?? 0);
    while (forKey < this.target) {
      forKey++;
      started.push(this.background.track(this.startOne(key)));
    }
    return Promise.all(started).then(() => undefined);
  }

  private async startOne(key: string): Promise<void> {
    this.starting.set(key, (this.starting.get(key) ?? 0) + 1);
    let sandbox: WarmSandbox | null = null;
    try {
      const cgroup = await this.cgroups.acquire();
      let launch: Launch;
      try {
        launch = await this.start(key, cgroup);
      } catch (err) {
        this.cgroups.release(cgroup); // nothing was started in it
        throw err;
      }
      sandbox = { key, cgroup, launch };
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
      this.starting.set(key, this.starting.get(key)! - 1);
    }
  }

  private drop(sandbox: WarmSandbox): void {
    const i = this.idle.indexOf(sandbox);
    if (i < 0) return; // taken by a run, which retires it
    this.idle.splice(i, 1);
    this.background.track(this.retire(sandbox));
  }

  /** Within each group over capacity, sandboxes of keys no longer preferred go first, then the oldest. */
  private evictBeyondCapacity(): void {
    for (const group of new Set(this.idle.map((s) => this.groupOf(s.key)))) {
      const inGroup = () => this.idle.filter((s) => this.groupOf(s.key) === group);
      while (inGroup().length > this.capacity) {
        const members = inGroup();
        const old = members.find((s) => s.key !== this.preferred.get(group)) ?? members[0]!;
        this.idle.splice(this.idle.indexOf(old), 1);
        this.background.track(this.retire(old));
      }
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
