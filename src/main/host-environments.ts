/**
 * The environments available on this host, until the environment catalogue (which knows what is
 * built here) implements the port: every known environment. Swapping in the catalogue changes
 * only this composition-root wiring (see openPlatform).
 */
import { ENVIRONMENTS } from '../domain/evaluation.js';
import type { HostEnvironments } from '../ports/host-environments.js';

export const everyKnownEnvironment: HostEnvironments = {
  available: async () => [...ENVIRONMENTS],
};
