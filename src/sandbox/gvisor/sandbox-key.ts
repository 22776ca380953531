/**
 * What of a run is fixed when its gVisor sandbox boots: the environment's root filesystem and the
 * limits written into the OCI bundle (scratch tmpfs sizes, the process limit gVisor's kernel
 * enforces, and the memory and CPU figures gVisor is told). Runs with the same key can take each
 * other's booted, still unused sandboxes; everything else about a run (its code, files, argv,
 * stdin, timeout, output limits) arrives after the boot, through crucible-init.
 */
import { ENVIRONMENTS, type Environment } from '../../domain/evaluation.js';
import type { Limits } from '../../domain/limits.js';

export type BootLimits = Pick<Limits, 'memory_mb' | 'cpus' | 'max_processes' | 'scratch_mb'>;

export interface GvisorSandboxKey {
  environment: Environment;
  limits: BootLimits;
}

export function gvisorSandboxKey(environment: Environment, limits: BootLimits): string {
  return [environment, limits.memory_mb, limits.cpus, limits.max_processes, limits.scratch_mb].join('/');
}

export function parseGvisorSandboxKey(key: string): GvisorSandboxKey {
  const [environment, memory_mb, cpus, max_processes, scratch_mb, ...rest] = key.split('/');
  const limits = { memory_mb: Number(memory_mb), cpus: Number(cpus), max_processes: Number(max_processes), scratch_mb: Number(scratch_mb) };
  if (rest.length || !(ENVIRONMENTS as readonly string[]).includes(environment ?? '') || Object.values(limits).some((n) => !Number.isFinite(n))) {
    throw new Error(`not a gVisor sandbox key: ${key}`);
  }
  return { environment: environment as Environment, limits };
}
