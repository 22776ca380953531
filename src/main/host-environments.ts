/**
 * The environments available on this host: those the catalogue finds built here (a worker cannot
 * run programs in the others). `--environments` narrows this set; it never widens it.
 */
import { ENVIRONMENTS } from '../domain/evaluation.js';
import type { EnvironmentCatalogue } from '../ports/environments.js';
import type { HostEnvironments } from '../ports/host-environments.js';

export function builtEnvironments(catalogue: Pick<EnvironmentCatalogue, 'rootfs'>): HostEnvironments {
  return { available: async () => ENVIRONMENTS.filter((e) => catalogue.rootfs(e) !== null) };
}
