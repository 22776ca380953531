/**
 * Use cases over environments: what each contains and where it can run (the API's
 * /api/environments, the CLI's `env list` and `env audit`), its SBOM, and the checks a submission
 * passes before it is queued (known environment, limits within its maxima, built somewhere).
 */
import { liveWorkers } from '../domain/environment-routing.js';
import {
  auditLock,
  buildCommand,
  cycloneDxBom,
  environmentView,
  isEnvironment,
  resolveLimits,
  type AuditRow,
  type CycloneDxBom,
  type EnvironmentList,
  type EnvironmentView,
} from '../domain/environments.js';
import { CrucibleError, badRequest } from '../domain/errors.js';
import { ENVIRONMENTS, type Environment, type SandboxBackendName } from '../domain/evaluation.js';
import type { Limits } from '../domain/limits.js';
import type { EnvironmentCatalogue } from '../ports/environments.js';
import type { SandboxBackends } from '../ports/sandbox.js';
import type { WorkerInfo } from '../ports/storage.js';

export interface EnvironmentQueriesDeps {
  catalogue: EnvironmentCatalogue;
  /** The worker registry (cached by the caller). */
  workers: () => Promise<WorkerInfo[]>;
  /** Backends of this process, for environments built on this host. */
  sandboxes: SandboxBackends;
  /** A worker whose heartbeat is older than this is not counted. */
  livenessWindowMs: number;
}

export const unknownEnvironment = (name: string) =>
  badRequest('unknown_environment', `Unknown environment ${JSON.stringify(name)}; known environments: ${ENVIRONMENTS.join(', ')}.`, {
    known: [...ENVIRONMENTS],
  });

export class EnvironmentQueries {
  constructor(private readonly deps: EnvironmentQueriesDeps) {}

  private async liveWorkers(): Promise<WorkerInfo[]> {
    return liveWorkers(await this.deps.workers(), this.deps.livenessWindowMs);
  }

  private async localSandboxes(): Promise<SandboxBackendName[]> {
    const backends = Object.values(this.deps.sandboxes);
    const healthy = await Promise.all(backends.map(async (b) => ((await b.health().catch(() => ({ ok: false }))).ok ? b.name : null)));
    return healthy.filter((name): name is SandboxBackendName => name !== null);
  }

  async list(): Promise<EnvironmentList> {
    const [workers, local] = await Promise.all([this.liveWorkers(), this.localSandboxes()]);
    const items = await Promise.all(ENVIRONMENTS.map((name) => this.view(name, workers, local)));
    return { items };
  }

  async get(name: string): Promise<EnvironmentView> {
    const environment = this.known(name, 'environment_not_found');
    const [workers, local] = await Promise.all([this.liveWorkers(), this.localSandboxes()]);
    return this.view(environment, workers, local);
  }

  private async view(name: Environment, workers: WorkerInfo[], local: SandboxBackendName[]): Promise<EnvironmentView> {
    const state = await this.deps.catalogue.state(name);
    const serving = workers.filter((w) => w.environments.includes(name));
    const sandboxes = new Set<SandboxBackendName>(serving.flatMap((w) => w.sandboxes));
    if (state.status === 'ready') for (const s of local) sandboxes.add(s);
    return environmentView(state, { sandboxes: [...sandboxes].sort(), workers: serving.map((w) => w.id).sort() });
  }

  /** CycloneDX 1.5 SBOM of an environment built on this host. */
  async sbom(name: string): Promise<CycloneDxBom> {
    const environment = this.known(name, 'environment_not_found');
    const state = await this.deps.catalogue.state(environment);
    if (state.status !== 'ready' || !state.build || !state.lock) throw notBuilt(environment, 'on this host');
    return cycloneDxBom(state.manifest, state.build, state.lock);
  }

  /** The lock of an environment (built here, else the repository's), each package flagged against the manifest's allowlist. */
  async audit(name: string): Promise<{ rows: AuditRow[]; from: 'built' | 'repository' }> {
    const environment = this.known(name, 'environment_not_found');
    const state = await this.deps.catalogue.state(environment);
    if (!state.lock) throw notBuilt(environment, 'on this host, and the repository has no lock for it');
    return { rows: auditLock(state.lock, state.manifest), from: state.build ? 'built' : 'repository' };
  }

  /**
   * Checks a submission's environment and returns the limits it runs with: unknown environment →
   * 400 unknown_environment; a limit above the environment's maximum → 400; the environment's
   * defaults fill what was omitted.
   */
  limitsFor(environment: string, requested: Partial<Limits>): { environment: Environment; limits: Limits } {
    const known = this.known(environment, 'unknown_environment');
    const resolved = resolveLimits(requested, this.deps.catalogue.manifest(known));
    if ('refused' in resolved) throw badRequest('limit_above_environment_maximum', `${resolved.refused}.`);
    return { environment: known, limits: resolved.limits };
  }

  private known(name: string, code: 'unknown_environment' | 'environment_not_found'): Environment {
    if (isEnvironment(name)) return name;
    if (code === 'unknown_environment') throw unknownEnvironment(name);
    throw new CrucibleError('environment_not_found', `No environment named ${JSON.stringify(name)}; known environments: ${ENVIRONMENTS.join(', ')}.`, {
      known: [...ENVIRONMENTS],
    });
  }
}

function notBuilt(name: Environment, where: string): CrucibleError {
  return new CrucibleError(
    'environment_not_built',
    `The ${name} environment is known but not built ${where}. Build it on a worker's host with \`${buildCommand(name)}\` and restart the worker there (see docs/environments.md).`,
    { environment: name, build_command: buildCommand(name) },
  );
}
