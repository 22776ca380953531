/**
 * The environment catalogue of this host: every environment the repository declares, with its
 * build state here (root filesystem, lock, size, digest), and a way to build one.
 */
import type { EnvironmentManifest, EnvironmentState } from '../domain/environments.js';
import type { Environment } from '../domain/evaluation.js';

export interface EnvironmentCatalogue {
  /** Every declared environment, in the order of ENVIRONMENTS. */
  manifests(): EnvironmentManifest[];
  manifest(name: Environment): EnvironmentManifest;
  /** Build state on this host (reads the environments directory; cheap enough per request). */
  state(name: Environment): Promise<EnvironmentState>;
  /** Root filesystem of a ready environment, or null when it is not built here. */
  rootfs(name: Environment): string | null;
}

export interface BuildProgress {
  /** A line of the builder's progress output. */
  onLine?: (line: string) => void;
}

export interface EnvironmentBuilder {
  /**
   * Builds an environment (a no-op when an up-to-date build exists). `update` resolves the
   * packages afresh and rewrites the repository's lock; `force` rebuilds regardless.
   */
  build(name: Environment, options: { update?: boolean; force?: boolean } & BuildProgress): Promise<void>;
}
