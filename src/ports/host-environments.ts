/**
 * Which environments are available on this host (built and ready to run programs in). A worker
 * serves these unless `--environments` narrows the set; naming one that is not available here is
 * a start-up error (see servedEnvironments in the domain).
 *
 * Implemented by the environment catalogue; src/main wires the implementation.
 */
import type { Environment } from '../domain/evaluation.js';

export interface HostEnvironments {
  /** The environments a worker on this host can run programs in, in catalogue order. */
  available(): Promise<Environment[]>;
}
