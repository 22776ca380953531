/**
 * Builds the sandbox backends a process offers. Callers pick a backend per run by name from the
 * returned registry and know nothing else: a Docker or Kubernetes backend would be one more
 * entry here, implementing SandboxBackend.
 */
import type { SandboxBackendName } from '../domain/evaluation.js';
import { BubblewrapBackend } from './bubblewrap/backend.js';
import { GvisorBackend } from './gvisor/backend.js';
import { detectCgroupDriver } from './cgroups/detect.js';
import type { CgroupDriver } from './cgroups/driver.js';
import type { BackendHealth, SandboxBackend, SandboxBackends } from '../ports/sandbox.js';

export { BubblewrapBackend } from './bubblewrap/backend.js';
export { GvisorBackend } from './gvisor/backend.js';

/** Just the logging the factory does (a pino logger fits). */
export interface SandboxLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SandboxFactoryOptions {
  /** Backends to offer; default all. */
  enabled?: readonly SandboxBackendName[];
  log?: SandboxLog;
  /** Directory with crucible-launch / crucible-init (default build/native of this checkout). */
  nativeDir?: string;
  /** Kill and remove sandboxes of dead Crucible processes first (default true). */
  cleanupStale?: boolean;
  /** Pre-create pooled cgroups before returning (default true). */
  warm?: boolean;
  /** Programs this process runs at once (its worker lanes); sizes the warm pool. */
  lanes?: number;
}

/**
 * Sandboxes kept set up and waiting: one per lane plus one spare, and never fewer than two. The
 * replacement of a taken sandbox starts only after its run's result (see WarmPool.take), and
 * setting one up takes ~10–30 ms of wall time (joining a cgroup alone waits for an RCU grace
 * period); with one per lane, back-to-back runs emptied the pool and waited for it. With the
 * spare, hello-world latency on 2 lanes improved at p50, p95 and p99 (docs/sandbox.md, "Warm
 * sandboxes").
 */
export function warmSandboxesFor(lanes: number | undefined): number {
  return Math.max(2, (lanes ?? 0) + 1);
}

/**
 * The machine's cgroup driver, or why there is none. Detected afresh on each call (a read of
 * /proc/self/mountinfo): the factory asks once and hands the same driver to every backend.
 */
export function cgroupDriver(): CgroupDriver | string {
  const detected = detectCgroupDriver();
  return detected.driver ?? detected.error;
}

export async function createSandboxBackends(options: SandboxFactoryOptions = {}): Promise<SandboxBackends> {
  const enabled = new Set(options.enabled ?? ['bubblewrap', 'gvisor']);
  const log = options.log;
  const launchers = log ? { log: (message: string) => log.warn({}, message) } : undefined;
  const common = { cgroups: cgroupDriver(), nativeDir: options.nativeDir, launchers };
  const backends: SandboxBackends = {};
  if (enabled.has('bubblewrap')) backends.bubblewrap = new BubblewrapBackend({ ...common, warmSandboxes: warmSandboxesFor(options.lanes) });
  if (enabled.has('gvisor')) backends.gvisor = new GvisorBackend(common);
  for (const backend of Object.values(backends)) await prepare(backend, options);
  return backends;
}

async function prepare(backend: SandboxBackend, options: SandboxFactoryOptions): Promise<void> {
  const health = await backend.health();
  if (!health.ok) {
    options.log?.warn({ sandbox: backend.name, detail: health.detail }, 'sandbox backend unavailable');
    return;
  }
  if (options.cleanupStale !== false) await backend.cleanupStale();
  if (options.warm !== false) await backend.warm?.();
  options.log?.info({ sandbox: backend.name }, 'sandbox backend ready');
}

/** Health of every configured backend (cheap: file checks only, nothing is run). */
export async function sandboxHealth(backends: SandboxBackends): Promise<Partial<Record<SandboxBackendName, BackendHealth>>> {
  const entries = await Promise.all(Object.entries(backends).map(async ([name, b]) => [name, await b.health()] as const));
  return Object.fromEntries(entries);
}

/** Drains every backend's cgroup pool and removes its cgroups; call on shutdown. */
export async function closeSandboxBackends(backends: SandboxBackends): Promise<void> {
  await Promise.allSettled(Object.values(backends).map((b) => b.close?.()));
}
