/**
 * What every cgroup-based backend shares: refusing to run without cgroups, the run loop, warming,
 * stale clean-up and shutdown. A backend adds how to start its sandbox (its SandboxStarter),
 * what it needs to be healthy, and its own extra clean-up.
 */
import type { SandboxBackendName } from '../../domain/evaluation.js';
import type { CgroupDriver } from '../cgroups/driver.js';
import { cleanupStaleCgroups } from '../cgroups/stale.js';
import { missingExecutables } from '../native.js';
import type { BackendHealth, RunCallbacks, RunResult, SandboxBackend, SandboxSpec } from '../../ports/sandbox.js';
import { LauncherSource, type LauncherSourceOptions } from './launcher-source.js';
import { SandboxRunner, type SandboxStarter } from './runner.js';
import { resultWithoutRun } from '../../domain/run-result.js';
import { DEFAULT_LIMITS, LIMIT_BOUNDS } from '../../domain/limits.js';
import type { SessionSandbox, SessionSandboxHost, SessionSandboxSpec } from '../../ports/session-sandbox.js';
import { AgentSession } from '../session/agent-session.js';
import { sessionAgentSource } from '../session/agent-source.js';

/** What every cgroup-based backend accepts besides its own options. */
export interface CgroupBackendOptions {
  /** cgroup driver, or why there is none (the backend then reports unhealthy and refuses to run). */
  cgroups: CgroupDriver | string;
  /** How this backend's launchers are started (spawn timeout, where the fallback warning goes). */
  launchers?: LauncherSourceOptions;
}

export abstract class CgroupSandboxBackend implements SandboxBackend, SessionSandboxHost {
  abstract readonly name: SandboxBackendName;
  private runnerInstance: SandboxRunner | null = null;
  protected readonly cgroups: CgroupDriver | string;
  /** This backend's own spawner(s): stopped by close(). */
  protected readonly launchers: LauncherSource;

  constructor(options: CgroupBackendOptions) {
    this.cgroups = options.cgroups;
    this.launchers = new LauncherSource(options.launchers);
  }

  /** How this backend starts a sandbox; asked once, on first use. */
  protected abstract starter(): SandboxStarter;
  /** A run whose sandbox can be prepared ahead of time, if the backend supports that. */
  protected defaultSpec(): SandboxSpec | null {
    return null;
  }
  /** Executables that must exist, and other problems specific to the backend. */
  protected abstract requirements(): { executables: string[]; problems: string[] };

  private get runner(): SandboxRunner | null {
    if (typeof this.cgroups === 'string') return null;
    this.runnerInstance ??= new SandboxRunner(this.cgroups, this.starter(), this.defaultSpec());
    return this.runnerInstance;
  }

  async health(): Promise<BackendHealth> {
    const { executables, problems } = this.requirements();
    const all: string[] = [];
    if (typeof this.cgroups === 'string') all.push(this.cgroups);
    if (process.getuid?.() !== 0) all.push('the server must run as root (cgroups, privilege drop, runsc)');
    const missing = missingExecutables(executables);
    if (missing.length) all.push(`missing executables: ${missing.join(', ')} (run scripts/setup.sh)`);
    all.push(...problems);
    return all.length ? { ok: false, detail: all.join('; ') } : { ok: true, detail: `${this.name} ready` };
  }

  async run(spec: SandboxSpec, callbacks: RunCallbacks = {}): Promise<RunResult> {
    // Refuse with the reason rather than fail obscurely (or, without cgroups, run unconfined).
    // A few stat calls: cheap enough for every run.
    const health = await this.health();
    const runner = this.runner;
    if (!health.ok || !runner) return resultWithoutRun(spec.limits, { platformError: `the ${this.name} sandbox is unavailable: ${health.detail}` });
    return runner.run(spec, callbacks);
  }

  /**
   * A long-lived sandbox whose program is the session agent, with the session's limits on its
   * whole cgroup (the same isolation, launcher and pools as a run).
   */
  async openSession(spec: SessionSandboxSpec): Promise<SessionSandbox> {
    const health = await this.health();
    const runner = this.runner;
    if (!health.ok || !runner) throw new Error(`the ${this.name} sandbox is unavailable: ${health.detail}`);
    const sandbox = await runner.openSandbox({
      code: sessionAgentSource(),
      environment: spec.environment,
      // The timeout is the session's business (idle and lifetime limits), not the sandbox's.
      limits: {
        ...DEFAULT_LIMITS,
        timeout_s: LIMIT_BOUNDS.timeout_s.max,
        memory_mb: spec.memory_mb,
        cpus: spec.cpus,
        max_processes: spec.max_processes,
        scratch_mb: spec.scratch_mb,
      },
      runId: spec.runId,
    });
    return AgentSession.start(sandbox);
  }

  /** Pre-creates cgroups (and warm sandboxes, if supported) so the first runs start fast. */
  async warm(): Promise<void> {
    await this.runner?.prepare();
  }

  warmSandboxes(): number {
    return this.runnerInstance?.warmReady ?? 0;
  }

  async cleanupStale(): Promise<void> {
    if (typeof this.cgroups !== 'string') await cleanupStaleCgroups(this.cgroups);
    await this.cleanupStaleExtra();
  }

  /** Backend-specific leftovers of dead servers (e.g. runsc state). */
  protected async cleanupStaleExtra(): Promise<void> {}

  async close(): Promise<void> {
    await this.runnerInstance?.close();
    await this.closeExtra();
    this.launchers.close();
  }

  protected async closeExtra(): Promise<void> {}
}
