/**
 * The run loop both backends share: get a sandbox (warm from the pool, or started cold in a
 * pooled cgroup), apply the run's limits to its cgroup, supervise it, then tear it down in the
 * background once the result is delivered. A backend only says how to start its sandbox.
 */
import { BackgroundTasks } from '../background-tasks.js';
import type { CgroupDriver, CgroupLimits, SandboxCgroup } from '../cgroups/driver.js';
import { CgroupPool } from '../cgroups/pool.js';
import type { RunCallbacks, RunResult, SandboxSpec } from '../../ports/sandbox.js';
import { killSandbox, launcherGone } from './kill.js';
import type { Launch } from './launch.js';
import { resultWithoutRun } from '../../domain/run-result.js';
import { programBundle } from './program-bundle.js';
import { superviseRun, type SuperviseOptions } from './supervise.js';
import { WarmPool, type WarmSandbox } from './warm-pool.js';

export interface SandboxStarter {
  /** Cgroup name prefix, e.g. "bwrap". */
  readonly prefix: string;
  /** What of a run is fixed when its sandbox is set up; runs with equal keys can use each other's warm sandboxes. */
  keyOf(spec: SandboxSpec): string;
  /**
   * Which pool group a key belongs to (e.g. its environment): each group keeps its own warm
   * sandboxes for its most recent key, so runs alternating between environments all start warm.
   */
  groupOf?(key: string): string;
  /** Starts a sandbox in `cgroup`: for `spec`, or ahead of time (spec null) for any run with `key`. */
  start(key: string, cgroup: SandboxCgroup, spec: SandboxSpec | null): Launch;
  /** Sandboxes started ahead of time; 0 = always start cold (when start needs the spec). */
  readonly warmSandboxes: number;
  /** What the sandbox machinery itself uses in the cgroup, added to the program's limits. */
  readonly overhead: { tasks: number; memoryBytes: number };
  readonly supervise: SuperviseOptions;
  /** Awaited before a sandbox is started, cold or warm (e.g. making sure shared files are cached). */
  beforeStart?(): Promise<void>;
  /** Clean-up after a sandbox's processes are gone (e.g. container state). */
  afterRun?(launch: Launch): Promise<void>;
}

/** A started sandbox handed to its caller (see SandboxRunner.openSandbox). */
export interface OpenSandbox {
  launch: Launch;
  cgroup: SandboxCgroup;
  close(): Promise<void>;
}

export class SandboxRunner {
  private readonly cgroups: CgroupPool;
  private readonly warm: WarmPool | null;
  /** Runs in flight and their tear-downs. */
  private readonly inFlight = new BackgroundTasks();
  /** Key of a default run, for which sandboxes are prepared before any run asks. */
  private readonly defaultKey: string | null;

  constructor(
    driver: CgroupDriver,
    private readonly starter: SandboxStarter,
    defaultSpec: SandboxSpec | null,
  ) {
    this.cgroups = new CgroupPool(driver, starter.prefix);
    this.warm =
      starter.warmSandboxes > 0
        ? new WarmPool(
            this.cgroups,
            async (key, cgroup) => {
              await starter.beforeStart?.();
              return starter.start(key, cgroup, null);
            },
            (s) => this.retire(s),
            starter.warmSandboxes,
            undefined,
            starter.groupOf?.bind(starter),
          )
        : null;
    this.defaultKey = defaultSpec ? starter.keyOf(defaultSpec) : null;
  }

  /** Warm sandboxes ready for a program now. */
  get warmReady(): number {
    return this.warm?.ready ?? 0;
  }

  /** Pre-creates cgroups and, if the backend supports it, sandboxes for default runs. */
  async prepare(): Promise<void> {
    await this.cgroups.warm();
    if (this.warm && this.defaultKey !== null) await this.warm.warm(this.defaultKey);
  }

  run(spec: SandboxSpec, callbacks: RunCallbacks): Promise<RunResult> {
    return this.inFlight.track(this.runOnce(spec, callbacks));
  }

  private async runOnce(spec: SandboxSpec, callbacks: RunCallbacks): Promise<RunResult> {
    if (callbacks.signal?.aborted) return resultWithoutRun(spec.limits, { cancelled: true });
    const key = this.starter.keyOf(spec);
    let sandbox: WarmSandbox | null = this.warm?.take(key) ?? null;
    if (!sandbox) {
      let cgroup: SandboxCgroup;
      try {
        cgroup = await this.cgroups.acquire();
      } catch (err) {
        return resultWithoutRun(spec.limits, { platformError: `no cgroup for the sandbox: ${(err as Error).message}` });
      }
      try {
        await this.starter.beforeStart?.();
        sandbox = { key, cgroup, launch: this.starter.start(key, cgroup, spec) };
      } catch (err) {
        this.cgroups.release(cgroup);
        return resultWithoutRun(spec.limits, { platformError: `starting the sandbox failed: ${(err as Error).message}` });
      }
    }
    const applied = this.limitsFor(spec);
    try {
      sandbox.cgroup.applyLimits(applied);
    } catch (err) {
      void this.retire(sandbox);
      return resultWithoutRun(spec.limits, { platformError: `applying the limits to the sandbox's cgroup failed: ${(err as Error).message}` });
    }
    let result: RunResult;
    try {
      result = await superviseRun(sandbox.launch, sandbox.cgroup, spec, callbacks, this.starter.supervise, applied);
    } catch (err) {
      // A bug or a vanished cgroup must still end as a result, and the sandbox must still go.
      result = resultWithoutRun(spec.limits, { platformError: `supervising the sandbox failed: ${(err as Error).message}` });
    }
    // Tear-down happens after the result is delivered; close() waits for it.
    void this.inFlight.track(this.retire(sandbox));
    this.warm?.runEnded();
    return result;
  }

  /**
   * A sandbox for a long-lived session: started (or taken warm) like a run's, its limits applied,
   * its code (the session agent) fed, and then handed over instead of supervised to completion.
   * `close` kills whatever is left, cleans up and recycles the cgroup; it must be called once.
   */
  async openSandbox(spec: SandboxSpec): Promise<OpenSandbox> {
    const key = this.starter.keyOf(spec);
    let sandbox: WarmSandbox | null = this.warm?.take(key) ?? null;
    if (!sandbox) {
      const cgroup = await this.cgroups.acquire();
      try {
        await this.starter.beforeStart?.();
        sandbox = { key, cgroup, launch: this.starter.start(key, cgroup, spec) };
      } catch (err) {
        this.cgroups.release(cgroup);
        throw err;
      }
    }
    const opened = sandbox;
    const close = () => this.inFlight.track(this.retire(opened));
    try {
      opened.cgroup.applyLimits(this.limitsFor(spec));
      opened.cgroup.resetAccounting();
    } catch (err) {
      await close();
      throw err;
    }
    // The program arrives as a run's does: a bundle of its files and argv (see program-bundle.ts).
    if (await opened.launch.attached) opened.launch.code?.end(programBundle(spec, this.starter.supervise.python));
    this.warm?.runEnded();
    return { launch: opened.launch, cgroup: opened.cgroup, close };
  }

  private limitsFor(spec: SandboxSpec): CgroupLimits {
    return {
      memoryBytes: spec.limits.memory_mb * 1024 * 1024 + this.starter.overhead.memoryBytes,
      pidsMax: spec.limits.max_processes + this.starter.overhead.tasks,
      cpus: spec.limits.cpus,
    };
  }

  /** Kills whatever is left of a sandbox, cleans up after it and recycles its cgroup. */
  private async retire(sandbox: WarmSandbox): Promise<void> {
    try {
      // A run that ended by itself (init reported it, every stream closed) left no process but
      // the launcher, which is reaping the last ones: no sweep of the cgroup is needed.
      if (sandbox.launch.reported) await launcherGone(sandbox.launch);
      else if (sandbox.launch.alive) await killSandbox(sandbox.launch, sandbox.cgroup);
      sandbox.launch.abandon();
      await sandbox.launch.done;
      await this.starter.afterRun?.(sandbox.launch).catch(() => undefined);
    } finally {
      this.cgroups.release(sandbox.cgroup);
    }
  }

  async close(): Promise<void> {
    await this.inFlight.drain();
    await this.warm?.close();
    await this.inFlight.drain();
    await this.cgroups.close();
  }
}
